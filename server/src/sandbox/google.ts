import { providerErrorBody } from '../providers/wire/error-body.js';
import { embeddingOf, estimateTokens, promptTokens, SANDBOX_REPLY, splitText, sseEvent, stableId } from './content.js';
import { asObject, json, type SandboxOptions, type SandboxRequest, type SandboxResponse, sse } from './types.js';

/** Gemini API wire format: generateContent, streamGenerateContent (SSE and JSON array), models. */

export const GOOGLE_MODELS: { name: string; displayName: string }[] = [
  { name: 'gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' },
  { name: 'gemini-2.5-pro', displayName: 'Gemini 2.5 Pro' },
  { name: 'gemini-2.0-flash', displayName: 'Gemini 2.0 Flash' },
  { name: 'text-embedding-004', displayName: 'Text Embedding 004' },
];

export function googleError(status: number, message: string, rpcStatus: string, reason?: string): SandboxResponse {
  const body = providerErrorBody('google', { status, message, code: reason ?? rpcStatus, type: rpcStatus });
  const err = body.error as Record<string, unknown>;
  if (reason) err.details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }];
  else delete err.details;
  return json(status, body);
}

function modelResource(m: { name: string; displayName: string }) {
  const embedding = m.name.includes('embedding');
  return {
    name: `models/${m.name}`,
    version: '001',
    displayName: m.displayName,
    description: `${m.displayName} (BYO sandbox)`,
    inputTokenLimit: embedding ? 2048 : 1_048_576,
    outputTokenLimit: embedding ? 1 : 65_536,
    supportedGenerationMethods: embedding ? ['embedContent'] : ['generateContent', 'countTokens'],
  };
}

export function googleSandbox(req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const m = req.method.toUpperCase();
  const match = /^\/(v1|v1beta|v1alpha)\/models(?:\/([^/:]+)(?::([A-Za-z]+))?)?\/?$/.exec(req.path);
  if (!match) return googleError(404, `The BYO sandbox does not implement ${m} ${req.path}.`, 'NOT_FOUND');
  const name = match[2] ? decodeURIComponent(match[2]) : undefined;
  const method = match[3];
  if (!name) {
    if (m !== 'GET') return googleError(404, 'Method not found.', 'NOT_FOUND');
    return json(200, { models: GOOGLE_MODELS.map(modelResource) });
  }
  if (!method) {
    const found = GOOGLE_MODELS.find((x) => x.name === name);
    return m === 'GET' && found ? json(200, modelResource(found)) : googleError(404, `models/${name} is not found.`, 'NOT_FOUND');
  }
  if (m !== 'POST') return googleError(404, 'Method not found.', 'NOT_FOUND');
  switch (method) {
    case 'generateContent':
      return generate(req, name, false, opts);
    case 'streamGenerateContent':
      return generate(req, name, true, opts);
    case 'countTokens': {
      const body = asObject(req.body);
      return json(200, { totalTokens: promptTokens(body.contents, body.systemInstruction) });
    }
    case 'embedContent': {
      const body = asObject(req.body);
      const refused = badDimension(body);
      if (refused) return refused;
      return json(200, { embedding: embedding(body) });
    }
    case 'batchEmbedContents': {
      // What @google/genai's models.embedContent() calls: `{requests: [EmbedContentRequest]}`.
      const requests = asObject(req.body).requests;
      if (!Array.isArray(requests) || requests.length === 0)
        return googleError(400, '* BatchEmbedContentsRequest.requests: contents is not specified', 'INVALID_ARGUMENT');
      // Google's own cap, which also bounds the sandbox's work per call.
      if (requests.length > BATCH_EMBED_LIMIT)
        return googleError(
          400,
          `* BatchEmbedContentsRequest.requests: at most ${BATCH_EMBED_LIMIT} requests can be in one batch`,
          'INVALID_ARGUMENT',
        );
      const embeddings = [];
      for (const r of requests) {
        const one = asObject(r);
        const refused = badDimension(one);
        if (refused) return refused;
        embeddings.push(embedding(one));
      }
      return json(200, { embeddings });
    }
    default:
      return googleError(404, `Method ${method} not found.`, 'NOT_FOUND');
  }
}

const BATCH_EMBED_LIMIT = 100;

/** Google's answer to an `outputDimensionality` that is not an integer (an int32 field), else null. */
function badDimension(body: Record<string, unknown>): SandboxResponse | null {
  const asked = body.outputDimensionality;
  if (asked === undefined || asked === null || Number.isInteger(asked)) return null;
  return googleError(400, `Invalid value at 'output_dimensionality' (TYPE_INT32), ${JSON.stringify(asked)}`, 'INVALID_ARGUMENT');
}

/** The `ContentEmbedding` of one embed request: deterministic, `outputDimensionality` values (768 by default). */
function embedding(body: Record<string, unknown>): { values: number[] } {
  const asked = body.outputDimensionality;
  const dims = typeof asked === 'number' ? Math.min(3072, Math.max(1, asked)) : 768;
  return { values: embeddingOf(JSON.stringify(body.content ?? ''), dims) };
}

function generate(req: SandboxRequest, modelName: string, stream: boolean, opts: SandboxOptions): SandboxResponse {
  const body = asObject(req.body);
  if (!Array.isArray(body.contents) && typeof body.contents !== 'object')
    return googleError(400, '* GenerateContentRequest.contents: contents is not specified', 'INVALID_ARGUMENT');
  const text = opts.text ?? SANDBOX_REPLY;
  const input = promptTokens(body.contents, body.systemInstruction);
  const output = estimateTokens(text);
  const responseId = stableId(JSON.stringify(body), 20);
  const usage = (out: number) => ({
    promptTokenCount: input,
    ...(out > 0 ? { candidatesTokenCount: out } : {}),
    totalTokenCount: input + out,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: input }],
  });
  const candidate = (piece: string, finish: boolean) => ({
    content: { parts: [{ text: piece }], role: 'model' },
    ...(finish ? { finishReason: 'STOP' } : {}),
    index: 0,
  });
  if (!stream) {
    return json(200, { candidates: [candidate(text, true)], usageMetadata: usage(output), modelVersion: modelName, responseId });
  }
  const pieces = splitText(text, opts.chunks);
  let sent = 0;
  const chunks = pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    sent += estimateTokens(piece);
    return {
      candidates: [candidate(piece, last)],
      usageMetadata: usage(last ? output : Math.min(sent, output)),
      modelVersion: modelName,
      responseId,
    };
  });
  if (req.query.get('alt') === 'sse') return sse(chunks.map((c) => sseEvent(c, undefined, '\r\n')));
  return json(200, chunks);
}
