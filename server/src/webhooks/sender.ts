import { type Dispatcher, request } from 'undici';
import { SsrfError } from '../net/ssrf.js';
import { scrub } from '../observability/scrub.js';
import { signDelivery } from './signing.js';

/** How much of a response body is kept (in the delivery log and the test answer). */
export const RESPONSE_SNIPPET_BYTES = 1024;
/** Bodies larger than this are cut off (the connection is dropped) rather than drained. */
const MAX_DRAIN_BYTES = 64 * 1024;

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseBody: string | null;
  error: string | null;
  /** Seconds from a Retry-After header, when the receiver sent one. */
  retryAfterSeconds: number | null;
}

export interface SendRequest {
  url: string;
  eventId: string;
  body: string;
  /** Current secret first, then the previous one during a rotation overlap. */
  secrets: readonly string[];
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal?: AbortSignal | undefined;
}

/**
 * One POST of one event to one endpoint: signed, through the SSRF-guarded agent, redirects not
 * followed (a 3xx is a failure), one overall timeout covering connect, headers and body.
 */
export async function sendWebhook(req: SendRequest): Promise<AttemptResult> {
  const started = performance.now();
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = signDelivery(req.secrets, req.eventId, timestamp, req.body);
  // One controller and one timer per attempt (cheaper than AbortSignal.timeout + any at volume).
  const ctrl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, req.timeoutMs);
  const onOuterAbort = () => ctrl.abort();
  req.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = ctrl.signal;
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: { ...headers },
      body: req.body,
      dispatcher: req.dispatcher,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      signal,
    });
    const snippet = await readSnippet(res.body);
    const statusCode = res.statusCode;
    const ok = statusCode >= 200 && statusCode < 300;
    return {
      ok,
      statusCode,
      latencyMs: elapsed(),
      responseBody: snippet,
      error: ok ? null : statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode} (redirects are not followed)` : `HTTP ${statusCode}`,
      retryAfterSeconds: parseRetryAfter(res.headers['retry-after']),
    };
  } catch (err) {
    return {
      ok: false,
      statusCode: null,
      latencyMs: elapsed(),
      responseBody: null,
      error: timedOut ? `timed out after ${req.timeoutMs} ms` : describeError(err, req),
      retryAfterSeconds: null,
    };
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (total < RESPONSE_SNIPPET_BYTES) chunks.push(buf.subarray(0, RESPONSE_SNIPPET_BYTES - total));
      total += buf.length;
      if (total > MAX_DRAIN_BYTES) {
        body.destroy();
        break;
      }
    }
  } catch {
    // A body cut off after the status arrived does not change the outcome.
  }
  if (total === 0) return null;
  // Cut at a character boundary and scrub anything key-shaped the receiver echoed back.
  return scrub(
    Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\uFFFD+$/, ''),
  );
}

export function parseRetryAfter(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function describeError(err: unknown, req: SendRequest): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (err instanceof SsrfError || e.cause instanceof SsrfError) return scrub((e.cause instanceof SsrfError ? e.cause : e).message ?? '');
  if (req.signal?.aborted) return 'aborted: the server is shutting down';
  const code = e.code ?? e.name ?? '';
  if (/Timeout|TimeoutError|ABORT/i.test(code) || e.name === 'TimeoutError' || e.name === 'AbortError')
    return `timed out after ${req.timeoutMs} ms`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (/CERT|SSL|TLS/i.test(code)) return `TLS error (${code})`;
  return scrub(`request failed${code ? ` (${code})` : ''}`);
}
