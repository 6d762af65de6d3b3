/**
 * Replaces key-shaped substrings in any string: pino's `redact`
 * only covers known fields, so messages and stack traces go through this too.
 */
const PATTERNS: RegExp[] = [
  /byo_(pk|sk)_(live|test)_[0-9A-Za-z]{8,}/g,
  /byo_ct_[0-9A-Za-z]{8,}/g,
  /whsec_[0-9A-Za-z+/=_-]{8,}/g,
  /sk-ant-[0-9A-Za-z_-]{8,}/g,
  /sk-(proj-)?[0-9A-Za-z_-]{8,}/g,
  /AIza[0-9A-Za-z_-]{20,}/g,
  // Other providers' key formats (Groq, xAI, Perplexity, Fireworks, Hugging Face, OpenRouter's sk-or- is sk-).
  /\b(gsk_|xai-|pplx-|fw_|hf_)[0-9A-Za-z_-]{16,}/g,
  /(Bearer\s+)[^\s"']{8,}/gi,
  // Query parameters and header-like pairs that carry credentials, whatever the value looks like.
  /([?&][\w.-]*(?:key|token|secret|password|signature)=)[^&\s"']+/gi,
  /((?:x-api-key|x-goog-api-key|api-key|authorization|x-byo-connect-token)\s*[:=]\s*)[^\s"',;]{4,}/gi,
  // JSON text inside a string (a logged body): the value of any credential-named field.
  /("(?:api_?key|apiKey|providerKey|secret|token|password|authorization|masterKey)"\s*:\s*")[^"]+/gi,
];

export function scrub(input: string): string {
  let out = input;
  for (const re of PATTERNS) {
    out = out.replace(re, (match, p1: string | undefined) => {
      if (p1 && (match.startsWith(p1) || /^bearer/i.test(p1))) return `${p1}[REDACTED]`;
      const prefix = /^(byo_(pk|sk)_(live|test)_|byo_ct_|whsec_|sk-ant-|sk-proj-|sk-|AIza|gsk_|xai-|pplx-|fw_|hf_)/.exec(match)?.[0] ?? '';
      return `${prefix}[REDACTED]`;
    });
  }
  return out;
}

export function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  // Past this depth nothing is scrubbed any more, so nothing is logged either.
  if (depth > 6) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  // Errors keep their (non-enumerable) name, message, stack and cause, scrubbed; copying only
  // own enumerable fields would log every error as `{}`.
  if (value instanceof Error) return scrubError(value, depth);
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return scrubDeep(withJson.toJSON(), depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

function scrubError(err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) out[k] = scrubDeep(v, depth + 1);
  out.name = err.name;
  out.message = scrub(String(err.message ?? ''));
  out.stack = scrub(String(err.stack ?? ''));
  if (err.cause !== undefined) out.cause = scrubDeep(err.cause, depth + 1);
  return out;
}
