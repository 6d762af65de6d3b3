import { providerErrorBody } from '../providers/wire/error-body.js';
import { estimateTokens, promptTokens, SANDBOX_REPLY, splitText, sseEvent, stableId } from './content.js';
import { asObject, json, type SandboxOptions, type SandboxRequest, type SandboxResponse, sse } from './types.js';

/** Anthropic wire format: messages (JSON and SSE), models. */

export const ANTHROPIC_MODELS: { id: string; display_name: string; created_at: string }[] = [
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z' },
  { id: 'claude-opus-4-7', display_name: 'Claude Opus 4.7', created_at: '2026-04-16T00:00:00Z' },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', created_at: '2025-10-15T00:00:00Z' },
];

export function anthropicError(status: number, type: string, message: string): SandboxResponse {
  const body = providerErrorBody('anthropic', { status, message, code: type, type });
  delete (body.error as Record<string, unknown>).code;
  return json(status, body);
}

export function anthropicSandbox(req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const path = req.path.replace(/\/+$/, '');
  const m = req.method.toUpperCase();
  if (m === 'POST' && path === '/v1/messages') return messages(req, opts);
  if (m === 'POST' && path === '/v1/messages/count_tokens') {
    const body = asObject(req.body);
    return json(200, { input_tokens: promptTokens(body.messages, body.system) });
  }
  if (m === 'GET' && path === '/v1/models') {
    const data = ANTHROPIC_MODELS.map((x) => ({ type: 'model', ...x }));
    return json(200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null });
  }
  const one = /^\/v1\/models\/([^/]+)$/.exec(path);
  if (m === 'GET' && one) {
    const found = ANTHROPIC_MODELS.find((x) => x.id === decodeURIComponent(one[1] as string));
    return found ? json(200, { type: 'model', ...found }) : anthropicError(404, 'not_found_error', `model: ${one[1]}`);
  }
  return anthropicError(404, 'not_found_error', `The BYO sandbox does not implement ${m} ${path}.`);
}

function messages(req: SandboxRequest, opts: SandboxOptions): SandboxResponse {
  const body = asObject(req.body);
  if (typeof body.model !== 'string' || !body.model) return anthropicError(400, 'invalid_request_error', 'model: Field required');
  if (typeof body.max_tokens !== 'number') return anthropicError(400, 'invalid_request_error', 'max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return anthropicError(400, 'invalid_request_error', 'messages: Field required');
  const modelId = body.model;
  const text = opts.text ?? SANDBOX_REPLY;
  const input = promptTokens(body.messages, body.system);
  const output = estimateTokens(text);
  const id = `msg_${stableId(JSON.stringify(body))}`;
  const usage = (out: number) => ({
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: out,
    service_tier: 'standard',
  });
  if (body.stream !== true) {
    return json(200, {
      id,
      type: 'message',
      role: 'assistant',
      model: modelId,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: usage(output),
    });
  }
  const events = [
    sseEvent(
      {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model: modelId,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: usage(1),
        },
      },
      'message_start',
    ),
    sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
    sseEvent({ type: 'ping' }, 'ping'),
  ];
  for (const piece of splitText(text, opts.chunks)) {
    events.push(sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }, 'content_block_delta'));
  }
  events.push(
    sseEvent({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
    sseEvent(
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } },
      'message_delta',
    ),
    sseEvent({ type: 'message_stop' }, 'message_stop'),
  );
  return sse(events);
}
