/**
 * Replaces key-shaped substrings in any string (LOG-1, second layer): pino's `redact`
 * only covers known fields, so messages and stack traces go through this too.
 */
const PATTERNS: RegExp[] = [
  /byo_(pk|sk)_(live|test)_[0-9A-Za-z]{8,}/g,
  /byo_ct_[0-9A-Za-z]{8,}/g,
  /whsec_[0-9A-Za-z+/=_-]{8,}/g,
  /sk-ant-[0-9A-Za-z_-]{8,}/g,
  /sk-(proj-)?[0-9A-Za-z_-]{8,}/g,
  /AIza[0-9A-Za-z_-]{20,}/g,
  /(Bearer\s+)[^\s"']{8,}/gi,
  /([?&](key|api_key|apikey|token)=)[^&\s"']+/gi,
];

export function scrub(input: string): string {
  let out = input;
  for (const re of PATTERNS) {
    out = out.replace(re, (match, p1: string | undefined) => {
      if (p1 && (match.startsWith(p1) || /^bearer/i.test(p1))) return `${p1}[REDACTED]`;
      const prefix = /^(byo_(pk|sk)_(live|test)_|byo_ct_|whsec_|sk-ant-|sk-proj-|sk-|AIza)/.exec(match)?.[0] ?? '';
      return `${prefix}[REDACTED]`;
    });
  }
  return out;
}

export function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}
