import { providerErrorBody } from '../providers/wire/error-body.js';
import {
  embeddingBase64,
  embeddingOf,
  estimateTokens,
  promptTokens,
  SANDBOX_CREATED,
  SANDBOX_REPLY,
  splitText,
  sseEvent,
  stableId,
} from './content.js';
import { asObject, json, type SandboxOptions, type SandboxRequest, type SandboxResponse, sse } from './types.js';

/** OpenAI wire format: chat completions, responses, embeddings, models (JSON and SSE). */

export const OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large'];

export function openaiError(status: number, message: string, code: string | null, type = 'invalid_request_error'): SandboxResponse {
  const body = providerErrorBody('openai', { status, message, code: code ?? '', type });
  if (code === null) (body.error as Record<string, unknown>).code = null;
  return json(status, body);
}

export function openaiSandbox(req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const path = req.path.replace(/\/+$/, '');
  const m = req.method.toUpperCase();
  if (m === 'POST' && path === '/chat/completions') return chatCompletions(req, opts);
  if (m === 'POST' && path === '/responses') return responses(req, opts);
  if (m === 'POST' && path === '/embeddings') return embeddings(req);
  if (m === 'GET' && path === '/models') {
    return json(200, { object: 'list', data: OPENAI_MODELS.map(model) });
  }
  const one = /^\/models\/([^/]+)$/.exec(path);
  if (m === 'GET' && one) {
    const id = decodeURIComponent(one[1] as string);
    return OPENAI_MODELS.includes(id) ? json(200, model(id)) : openaiError(404, `The model '${id}' does not exist`, 'model_not_found');
  }
  return openaiError(404, `Invalid URL (${m} /v1${path}): the BYO sandbox does not implement this endpoint.`, 'unknown_url');
}

function model(id: string) {
  return { id, object: 'model', created: SANDBOX_CREATED, owned_by: 'byo-sandbox' };
}

function requireModel(body: Record<string, unknown>): string | SandboxResponse {
  if (typeof body.model !== 'string' || !body.model)
    return openaiError(400, 'you must provide a model parameter', 'missing_required_parameter');
  return body.model;
}

function chatCompletions(req: SandboxRequest, opts: SandboxOptions): SandboxResponse {
  const body = asObject(req.body);
  const modelId = requireModel(body);
  if (typeof modelId !== 'string') return modelId;
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return openaiError(400, "Missing required parameter: 'messages'.", 'missing_required_parameter');
  const text = opts.text ?? SANDBOX_REPLY;
  const input = promptTokens(body.messages);
  const output = estimateTokens(text);
  const id = `chatcmpl-${stableId(JSON.stringify(body))}`;
  const usage = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  const base = { id, created: SANDBOX_CREATED, model: modelId, system_fingerprint: 'fp_byo_sandbox' };
  if (body.stream !== true) {
    return json(200, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
      service_tier: 'default',
    });
  }
  const includeUsage = asObject(body.stream_options).include_usage === true;
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    ...base,
    object: 'chat.completion.chunk',
    service_tier: 'default',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events = [sseEvent(chunk({ role: 'assistant', content: '', refusal: null }, null))];
  for (const piece of splitText(text, opts.chunks)) events.push(sseEvent(chunk({ content: piece }, null)));
  events.push(sseEvent(chunk({}, 'stop')));
  if (includeUsage) {
    events.push(sseEvent({ ...base, object: 'chat.completion.chunk', service_tier: 'default', choices: [], usage }));
  }
  events.push(sseEvent('[DONE]'));
  return sse(events);
}

function responses(req: SandboxRequest, opts: SandboxOptions): SandboxResponse {
  const body = asObject(req.body);
  const modelId = requireModel(body);
  if (typeof modelId !== 'string') return modelId;
  if (body.input === undefined) return openaiError(400, "Missing required parameter: 'input'.", 'missing_required_parameter');
  const text = opts.text ?? SANDBOX_REPLY;
  const input = promptTokens(body.input, body.instructions);
  const output = estimateTokens(text);
  const seed = stableId(JSON.stringify(body));
  const id = `resp_${seed}`;
  const itemId = `msg_${seed}`;
  const usage = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
  const part = { type: 'output_text', text, annotations: [], logprobs: [] };
  const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
  const response = (status: string, output: unknown[], u: unknown) => ({
    id,
    object: 'response',
    created_at: SANDBOX_CREATED,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model: modelId,
    output,
    parallel_tool_calls: true,
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: body.store !== false,
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: u,
    user: null,
    metadata: asObject(body.metadata),
  });
  if (body.stream !== true) return json(200, response('completed', [item], usage));

  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => sseEvent({ type, sequence_number: seq++, ...data }, type);
  const events = [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
    ev('response.output_item.added', {
      output_index: 0,
      item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    }),
    ev('response.content_part.added', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    }),
  ];
  for (const delta of splitText(text, opts.chunks)) {
    events.push(ev('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] }));
  }
  events.push(
    ev('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }),
    ev('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part }),
    ev('response.output_item.done', { output_index: 0, item }),
    ev('response.completed', { response: response('completed', [item], usage) }),
  );
  return sse(events);
}

const EMBEDDING_INPUTS_LIMIT = 2048;

function embeddings(req: SandboxRequest): SandboxResponse {
  const body = asObject(req.body);
  const modelId = requireModel(body);
  if (typeof modelId !== 'string') return modelId;
  const raw = body.input;
  let inputs: string[];
  if (typeof raw === 'string') inputs = [raw];
  else if (Array.isArray(raw) && raw.length > 0) inputs = raw.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  else return openaiError(400, "'input' must be a non-empty string or array.", 'invalid_value');
  // OpenAI's own cap, which also bounds the sandbox's work per call.
  if (inputs.length > EMBEDDING_INPUTS_LIMIT)
    return openaiError(400, `'input' may hold at most ${EMBEDDING_INPUTS_LIMIT} items per request.`, 'invalid_value');
  const dims =
    typeof body.dimensions === 'number' && body.dimensions > 0 && body.dimensions <= 3072
      ? Math.floor(body.dimensions)
      : modelId.endsWith('large')
        ? 3072
        : 1536;
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((n, s) => n + estimateTokens(s), 0);
  return json(200, {
    object: 'list',
    data: inputs.map((s, index) => {
      const v = embeddingOf(s, dims);
      return { object: 'embedding', index, embedding: base64 ? embeddingBase64(v) : v };
    }),
    model: modelId,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
