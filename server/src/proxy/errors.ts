import { BYOError } from '../errors.js';
import { SsrfError } from '../net/ssrf.js';

/** The errors BYO itself answers on the proxy path (rendered in the provider's shape by errors/render.ts). */

/** A project over its in-flight cap in this process (a resource cap, not a quota: it frees as calls end). */
export function concurrencyLimited(what: string): BYOError {
  return new BYOError('concurrency_limited', `${what} on this server; retry shortly.`, { retryAfter: 1 });
}

export function proxyUnauthorized(): BYOError {
  return new BYOError(
    'unauthorized',
    'Invalid or missing BYO secret key. Pass your byo_sk_ key as the provider SDK’s API key (Authorization: Bearer, x-api-key, x-goog-api-key or api-key).',
  );
}

/** Maps an undici failure before any response byte to the error the client sees. */
export function upstreamError(err: unknown): BYOError {
  const e = err as { code?: string; cause?: unknown; message?: string };
  const ssrf = err instanceof SsrfError ? err : e.cause instanceof SsrfError ? e.cause : null;
  if (ssrf) return new BYOError('upstream_unreachable', `BYO will not connect to this key's base URL: ${ssrf.message}`);
  switch (e.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new BYOError('upstream_timeout', 'The provider did not accept a connection in time.');
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new BYOError('upstream_timeout', 'The provider did not answer in time.');
    case 'UND_ERR_BODY_TIMEOUT':
      return new BYOError('upstream_timeout', 'The provider stopped sending its answer.');
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return new BYOError('bad_request', 'The request body did not match its Content-Length.');
    case 'EPIPE':
      // undici reports the failed write before it reads an answer the provider may have sent.
      return new BYOError(
        'upstream_unreachable',
        'The provider closed the connection while BYO was still sending the request body, before answering (providers do this with a body they refuse, such as one over their size limit).',
      );
    default:
      return new BYOError('upstream_unreachable', `Could not reach the provider${e.code ? ` (${e.code})` : ''}.`);
  }
}
