import type { IncomingHttpHeaders } from 'node:http';
import { BASE_SECURITY_HEADERS } from '../http/security-headers.js';

/**
 * Header hygiene for the proxy. Inbound: every credential, every `x-byo-*`
 * header, cookies, hop-by-hop headers and forwarding headers are removed; content and
 * provider headers (`anthropic-version`, `anthropic-beta`, `openai-beta`, `x-stainless-*`,
 * ...) pass. Outbound: hop-by-hop headers, `set-cookie`, CORS headers (`access-control-*`: the
 * upstream's policy is not BYO's) and any `x-byo-*` an upstream sent are removed; from a
 * customer's own base URL, a type a browser would render as a page (HTML, XHTML, SVG, XML) is
 * served as text/plain; everything else passes.
 */

export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Request headers never forwarded (besides hop-by-hop and `x-byo-*`). */
const REQUEST_DROP = new Set([
  ...HOP_BY_HOP,
  'host',
  // every way a caller may present a credential
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  // undici cannot send `expect`; the body is forwarded as it arrives anyway
  'expect',
  // the caller's network details stay with BYO
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'via',
  // replaced by `identity`, so token usage can be read from the bytes passing through
  'accept-encoding',
]);

// BYO's own security headers replace any the upstream sent (one line each, BYO's value).
const RESPONSE_DROP = new Set([...HOP_BY_HOP, 'set-cookie', 'set-cookie2', ...BASE_SECURITY_HEADERS.map(([name]) => name)]);
const BASE_FLAT: readonly string[] = BASE_SECURITY_HEADERS.flat();

/** The base security headers plus these, flat, for writeHead() (an array takes node's fast path, no setHeader() merge). */
function withBaseHeaders(out: string[]): string[] {
  for (const v of BASE_FLAT) out.push(v);
  return out;
}

function connectionTokens(value: string | undefined): Set<string> | null {
  if (!value) return null;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return null; // the usual case, no split
  const names = lower
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'close' && s !== 'keep-alive');
  return names.length ? new Set(names) : null;
}

/**
 * The headers to send upstream, as a flat `[name, value, ...]` list (undici takes it as is),
 * from the client's raw headers, with the provider credential injected.
 */
export function upstreamRequestHeaders(
  rawHeaders: string[],
  connection: string | undefined,
  authHeader: string,
  authValue: string,
): string[] {
  const extra = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (REQUEST_DROP.has(lower) || lower.startsWith('x-byo-') || extra?.has(lower)) continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  out.push(authHeader, authValue, 'accept-encoding', 'identity');
  return out;
}

/**
 * The forwarded headers as an object with lower-case names (repeated ones joined with `, `),
 * without any credential: what a signer signs (signed providers), `accept-encoding: identity`
 * included so the answer's usage can be read.
 */
export function forwardedHeaders(rawHeaders: string[], connection: string | undefined): Record<string, string> {
  const extra = connectionTokens(connection);
  const out: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = (rawHeaders[i] as string).toLowerCase();
    if (REQUEST_DROP.has(lower) || lower.startsWith('x-byo-') || extra?.has(lower)) continue;
    const v = rawHeaders[i + 1] as string;
    out[lower] = out[lower] === undefined ? v : `${out[lower]}, ${v}`;
  }
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * Types a browser renders as a document that can run script. A customer-controlled base URL
 * could otherwise serve a page under BYO's origin (a stored XSS on the proxy's host).
 */
const ACTIVE_CONTENT = /^\s*(?:text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml)|\+xml\s*(?:;|$)/i;
const INERT_TYPE = 'text/plain; charset=utf-8';

/** The stored provider key that answered a call: its id, and its hint (`sk-...abcd`). */
export const KEY_ID_HEADER = 'x-byo-key-id';
export const KEY_HINT_HEADER = 'x-byo-key-hint';
const NO_PROOF: readonly string[] = [];

/**
 * The proof of whose key paid for a call, flat for writeHead(): built once per cached key (see
 * ProviderKeyResolver), so the hot path only appends four strings. A stored key has a hint
 * whenever it has key material; a missing one is left out rather than sent empty.
 */
export function keyProofHeaders(id: string, hint: string | null): readonly string[] {
  return hint ? [KEY_ID_HEADER, id, KEY_HINT_HEADER, hint] : [KEY_ID_HEADER, id];
}

/** Adds a key's proof headers (none before a key was chosen) to a header object of BYO's own answer. */
export function addProof(headers: Record<string, string>, proof: readonly string[] | undefined): void {
  if (proof) for (let i = 0; i < proof.length; i += 2) headers[proof[i] as string] = proof[i + 1] as string;
}

/** BYO's security headers as an object, for the answers BYO writes itself (errors, the sandbox). */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.fromEntries(BASE_SECURITY_HEADERS);

/**
 * The upstream response headers to pass to the client, flat, plus `x-byo-request-id`, the key's
 * proof headers (an upstream's own `x-byo-*` never passes) and BYO's security headers.
 * `customUpstream`: the answer comes from a base URL a customer chose.
 */
export function clientResponseHeaders(
  headers: IncomingHttpHeaders,
  requestId: string,
  customUpstream = false,
  proof: readonly string[] = NO_PROOF,
): string[] {
  const conn = headers.connection;
  const extra = connectionTokens(Array.isArray(conn) ? conn.join(',') : conn);
  const out: string[] = [];
  for (const name in headers) {
    if (RESPONSE_DROP.has(name) || name.startsWith('x-byo-') || name.startsWith('access-control-') || extra?.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (customUpstream && name === 'content-type') out.push(name, Array.isArray(value) || ACTIVE_CONTENT.test(value) ? INERT_TYPE : value);
    else if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  out.push('x-byo-request-id', requestId);
  for (const v of proof) out.push(v);
  return withBaseHeaders(out);
}

const CREDENTIAL_HEADERS = ['x-api-key', 'x-goog-api-key', 'api-key'] as const;

/** Where the caller put its BYO key, in the header its provider SDK uses (or `?key=`). */
export function callerCredential(headers: IncomingHttpHeaders, queryKey: string | undefined): string | undefined {
  let first: string | undefined;
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const v = bearerToken(auth);
    if (v?.startsWith('byo_')) return v;
    first = v;
  }
  // After the Bearer fast path: Anthropic's, Gemini's and Azure's (`api-key`) SDK headers.
  for (const name of CREDENTIAL_HEADERS) {
    const v = headers[name];
    if (typeof v === 'string' && v) {
      if (v.startsWith('byo_')) return v;
      first ??= v;
    }
  }
  if (queryKey?.startsWith('byo_')) return queryKey;
  return first ?? queryKey;
}

const PLAIN_BEARER_KEY = /^Bearer byo_\w+$/;

/** The token of `Authorization: Bearer <token>`, else the whole value, trimmed. */
function bearerToken(auth: string): string | undefined {
  // As every SDK sends it: a test without captures (no match array per call), same result.
  if (PLAIN_BEARER_KEY.test(auth)) return auth.slice(7);
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(auth);
  return m ? m[1] : auth.trim();
}

/**
 * Splits `key=` out of a raw query string (Gemini-style `?key=`), leaving the rest byte for
 * byte as the caller sent it. Returns the key (decoded) and the remaining query.
 */
export function takeQueryKey(rawQuery: string): { key: string | undefined; query: string } {
  if (!rawQuery.includes('key=')) return { key: undefined, query: rawQuery };
  let key: string | undefined;
  const kept: string[] = [];
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (name === 'key' || name === 'api_key') {
      if (name === 'key' && key === undefined) {
        try {
          key = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
        } catch {
          key = part.slice(eq + 1);
        }
      }
      continue;
    }
    kept.push(part);
  }
  return { key, query: kept.join('&') };
}

/**
 * Rejects dot segments, raw or percent-encoded (`%2e%2e`, `..%2f`), and backslashes, so a
 * path cannot climb above the provider base on servers that decode before routing.
 */
export function hasDotSegment(path: string): boolean {
  if (!path.includes('.') && !path.includes('%') && !path.includes('\\')) return false;
  let decoded = path;
  if (path.includes('%')) {
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return true; // malformed escapes: refuse rather than guess how the upstream reads them
    }
  }
  for (const seg of decoded.split(/[/\\]/)) if (seg === '.' || seg === '..') return true;
  return decoded.includes('\\');
}
