import { anthropicSandbox } from '../../sandbox/anthropic.js';
import { googleError, googleSandbox } from '../../sandbox/google.js';
import { asObject, json, type SandboxOptions, type SandboxRequest, type SandboxResponse } from '../../sandbox/types.js';

/** `/v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}` (and v1beta1). */
const PUBLISHER_MODEL = /^\/(v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/publishers\/(google|anthropic)\/models\/([^/:]+):([A-Za-z]+)$/;
const MODEL_REGISTRY = /^\/(v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/models$/;

/**
 * Vertex AI's paths, answered in its publishers' shapes: Gemini (`publishers/google`: the
 * Gemini API's bodies, JSON, JSON-array and `?alt=sse` streams) and Claude (`publishers/
 * anthropic`: `rawPredict` / `streamRawPredict` with Anthropic's Messages bodies).
 */
export function vertexSandbox(req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const m = req.method.toUpperCase();
  if (m === 'GET' && MODEL_REGISTRY.test(req.path)) return json(200, {});
  const match = PUBLISHER_MODEL.exec(req.path);
  if (!match || m !== 'POST') return googleError(404, `The BYO sandbox does not implement ${m} ${req.path}.`, 'NOT_FOUND');
  const [, , publisher, model = '', method] = match;
  if (publisher === 'google') return googleSandbox({ ...req, path: `/v1/models/${model}:${method}` }, opts);
  if (method !== 'rawPredict' && method !== 'streamRawPredict')
    return googleError(400, `Anthropic models on Vertex AI take rawPredict and streamRawPredict, not ${method}.`, 'INVALID_ARGUMENT');
  const body = asObject(req.body);
  if (body.anthropic_version === undefined) return googleError(400, 'anthropic_version: Field required', 'INVALID_ARGUMENT');
  // The model is the path's (AnthropicVertex moves it out of the body); streamRawPredict streams.
  return anthropicSandbox(
    {
      ...req,
      path: '/v1/messages',
      body: { ...body, model: decodeURIComponent(model), ...(method === 'streamRawPredict' ? { stream: true } : {}) },
    },
    opts,
  );
}

/** What Vertex answers a token it does not accept. */
export function vertexInvalidKey(): SandboxResponse {
  return googleError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    'UNAUTHENTICATED',
    'ACCESS_TOKEN_TYPE_UNSUPPORTED',
  );
}
