/**
 * What a call may use, before it is sent: the reservation a `tokens` or
 * `cost_usd` limit takes, settled to the real figures afterwards.
 *
 * - input: the request body's bytes / 3. Tokens average about 4 bytes of English text or JSON,
 *   so this over-reserves rather than under (images and audio are billed otherwise; their bytes
 *   over-reserve far more).
 * - output: the request's own cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`,
 *   Gemini's `generationConfig.maxOutputTokens`, Bedrock's `inferenceConfig.maxTokens`), else
 *   DEFAULT_OUTPUT_TOKENS; never above MAX_OUTPUT_TOKENS.
 */
export const DEFAULT_OUTPUT_TOKENS = 4096;
export const MAX_OUTPUT_TOKENS = 128_000;
/** Bodies up to this size are parsed for the model and output cap; larger ones are estimated from their size alone. */
export const PARSED_BODY_LIMIT = 4 * 1024 * 1024;

export interface Estimate {
  model: string | null;
  inputTokens: number;
  outputTokens: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null);

export function estimateCall(body: Buffer | null, bodyBytes: number, urlModel: string | null): Estimate {
  let model = urlModel;
  let cap: number | null = null;
  if (body && body.length > 0 && body.length <= PARSED_BODY_LIMIT) {
    try {
      const doc = obj(JSON.parse(body.toString('utf8')));
      if (doc) {
        if (typeof doc.model === 'string' && doc.model) model = doc.model.slice(0, 200);
        cap =
          count(doc.max_tokens) ??
          count(doc.max_completion_tokens) ??
          count(doc.max_output_tokens) ??
          count(obj(doc.generationConfig)?.maxOutputTokens) ??
          count(obj(doc.inferenceConfig)?.maxTokens);
      }
    } catch {
      /* not JSON: estimated from its size */
    }
  }
  return {
    model,
    inputTokens: Math.ceil(bodyBytes / 3),
    outputTokens: Math.min(MAX_OUTPUT_TOKENS, cap ?? DEFAULT_OUTPUT_TOKENS),
  };
}
