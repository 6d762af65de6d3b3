import { ERROR_STATUS } from '../../src/errors.js';

/** Text that only an internal failure would put in a response: stack frames, source paths, driver messages. */
const INTERNAL_MARKERS: RegExp[] = [
  /\n\s+at \S/, // a stack frame
  /\bat [\w$.<>]+ \((?:file:\/\/|\/)[^)]*:\d+:\d+\)/,
  /node_modules/,
  /\/work\/|\/src\/[\w/-]+\.(?:ts|js)\b/,
  /\b(?:TypeError|ReferenceError|RangeError|SyntaxError): /,
  /Cannot read propert(?:y|ies) of/,
  /\bkysely\b|\bpglite\b/i,
  /syntax error at or near|violates (?:unique|foreign key|not-null|check) constraint|invalid byte sequence|relation "[^"]+" does not exist/,
  /FST_[A-Z_]+/,
];

export const KNOWN_CODES = new Set(Object.keys(ERROR_STATUS));

/** Returns the first internal marker found in a response text, or null. */
export function internalLeak(text: string): string | null {
  for (const re of INTERNAL_MARKERS) {
    const m = re.exec(text);
    if (m) return m[0];
  }
  return null;
}

export interface CheckedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * The contract every BYO response keeps, whatever the input: no 5xx, a JSON body, and for
 * errors the `{ code, message, requestId }` shape with a known code and the request id of the
 * `x-byo-request-id` header. Returns a list of problems (empty when the response is fine).
 */
export function restContractProblems(
  res: CheckedResponse,
  opts: { method: string; allowStatuses?: number[] } = { method: 'GET' },
): string[] {
  const problems: string[] = [];
  if (res.status >= 500 && !(opts.allowStatuses ?? []).includes(res.status)) problems.push(`status ${res.status}`);
  if (res.status < 100) problems.push('no status');
  const ct = String(res.headers['content-type'] ?? '');
  const requestId = res.headers['x-byo-request-id'];
  if (!requestId) problems.push('no x-byo-request-id header');
  if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no x-content-type-options: nosniff');
  const leak = internalLeak(res.text);
  if (leak) problems.push(`internal detail in the response: ${JSON.stringify(leak)}`);
  if (opts.method === 'HEAD' || res.status === 204) return problems;
  if (!ct.startsWith('application/json')) problems.push(`content-type ${ct || '(none)'}`);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    problems.push(`body is not JSON: ${res.text.slice(0, 120)}`);
    return problems;
  }
  if (res.status >= 400) {
    const b = body as { code?: unknown; message?: unknown; requestId?: unknown };
    if (typeof b.code !== 'string' || !KNOWN_CODES.has(b.code)) problems.push(`unknown error code ${JSON.stringify(b.code)}`);
    else if (ERROR_STATUS[b.code as keyof typeof ERROR_STATUS] !== res.status) problems.push(`code ${b.code} with status ${res.status}`);
    if (typeof b.message !== 'string' || b.message.length === 0) problems.push('no message');
    if (b.requestId !== requestId) problems.push(`requestId ${JSON.stringify(b.requestId)} != header ${JSON.stringify(requestId)}`);
  }
  return problems;
}
