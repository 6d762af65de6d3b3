import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { anthropicSandbox } from '../../sandbox/anthropic.js';
import { estimateTokens, promptTokens, SANDBOX_REPLY, splitText } from '../../sandbox/content.js';
import { asObject, type SandboxOptions, type SandboxRequest, type SandboxResponse } from '../../sandbox/types.js';

/**
 * Bedrock's runtime API, answered as AWS does: Converse JSON, ConverseStream and
 * InvokeModelWithResponseStream as AWS event streams (binary frames with CRCs, encoded by
 * the AWS SDK's own codec), InvokeModel with an Anthropic model's native body.
 */

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const STREAM_HEADERS = { 'content-type': 'application/vnd.amazon.eventstream' };
const JSON_HEADERS = { 'content-type': 'application/json' };

/** One event-stream frame: an `event` of type `type` with a JSON payload. */
export function eventFrame(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

export function bedrockError(status: number, type: string, message: string): SandboxResponse {
  return { status, headers: { ...JSON_HEADERS, 'x-amzn-errortype': type }, body: JSON.stringify({ message }) };
}

/** AWS's answer to a signature or key it does not know. */
export function bedrockInvalidKey(): SandboxResponse {
  return bedrockError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
}

export function bedrockSandbox(req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const m = req.method.toUpperCase();
  if (m === 'GET' && req.path.replace(/\/+$/, '') === '/async-invoke') return json(200, { asyncInvokeSummaries: [] });
  const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/.exec(req.path);
  if (!match || m !== 'POST') return bedrockError(404, 'UnknownOperationException', `The BYO sandbox does not implement ${m} ${req.path}.`);
  const modelId = decodeURIComponent(match[1] as string);
  switch (match[2]) {
    case 'converse':
      return converse(req, modelId, opts);
    case 'converse-stream':
      return converseStream(req, opts);
    case 'invoke':
      return invoke(req, modelId, false, opts);
    default:
      return invoke(req, modelId, true, opts);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function converseUsage(req: SandboxRequest, text: string) {
  const body = asObject(req.body);
  if (!Array.isArray(body.messages) || body.messages.length === 0) return null;
  const inputTokens = promptTokens(body.messages, body.system);
  const outputTokens = estimateTokens(text);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

function converse(req: SandboxRequest, _modelId: string, opts: SandboxOptions): SandboxResponse {
  const text = opts.text ?? SANDBOX_REPLY;
  const usage = converseUsage(req, text);
  if (!usage) return bedrockError(400, 'ValidationException', 'A conversation must start with a user message.');
  return json(200, {
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: 'end_turn',
    usage,
    metrics: { latencyMs: 1 },
  });
}

function converseStream(req: SandboxRequest, opts: SandboxOptions): SandboxResponse {
  const text = opts.text ?? SANDBOX_REPLY;
  const usage = converseUsage(req, text);
  if (!usage) return bedrockError(400, 'ValidationException', 'A conversation must start with a user message.');
  const events = [eventFrame('messageStart', { role: 'assistant' })];
  for (const piece of splitText(text, opts.chunks))
    events.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }));
  events.push(
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: 'end_turn' }),
    eventFrame('metadata', { usage, metrics: { latencyMs: 1 } }),
  );
  return { status: 200, headers: { ...STREAM_HEADERS }, events };
}

/** InvokeModel: the model's native body. The sandbox speaks Anthropic's (`anthropic.*` models). */
function invoke(req: SandboxRequest, modelId: string, stream: boolean, opts: SandboxOptions): SandboxResponse {
  if (!/(^|\.)anthropic\./.test(modelId))
    return bedrockError(
      400,
      'ValidationException',
      `The BYO sandbox answers InvokeModel for Anthropic models (anthropic.*), not ${modelId}.`,
    );
  const body = asObject(req.body);
  if (body.anthropic_version === undefined)
    return bedrockError(400, 'ValidationException', 'Malformed input request: required key [anthropic_version] not found');
  const inner = anthropicSandbox(
    { method: 'POST', path: '/v1/messages', query: new URLSearchParams(), body: { ...body, model: modelId, stream } },
    opts,
  );
  if (inner.status !== 200) return bedrockError(400, 'ValidationException', messageOf(inner.body));
  if (!stream) {
    const parsed = JSON.parse(inner.body ?? '{}') as { usage?: { input_tokens?: number; output_tokens?: number } };
    return {
      status: 200,
      headers: {
        ...JSON_HEADERS,
        'x-amzn-bedrock-input-token-count': String(parsed.usage?.input_tokens ?? 0),
        'x-amzn-bedrock-output-token-count': String(parsed.usage?.output_tokens ?? 0),
      },
      body: inner.body,
    };
  }
  // Each Anthropic event, base64 in a `chunk`; the last carries Bedrock's invocation metrics.
  const payloads = (inner.events ?? []).map((e) => JSON.parse(/^data: (.*)$/m.exec(String(e))?.[1] ?? '{}') as Record<string, unknown>);
  const input = promptTokens(body.messages, body.system);
  const output = estimateTokens(opts.text ?? SANDBOX_REPLY);
  const frames = payloads
    .filter((p) => p.type !== 'ping')
    .map((p) => {
      const doc =
        p.type === 'message_stop'
          ? {
              ...p,
              'amazon-bedrock-invocationMetrics': {
                inputTokenCount: input,
                outputTokenCount: output,
                invocationLatency: 1,
                firstByteLatency: 1,
              },
            }
          : p;
      return eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(doc)).toString('base64') });
    });
  return { status: 200, headers: { ...STREAM_HEADERS }, events: frames };
}

function messageOf(body: string | undefined): string {
  try {
    return String((JSON.parse(body ?? '{}') as { error?: { message?: string } }).error?.message ?? 'Invalid request');
  } catch {
    return 'Invalid request';
  }
}
