import type { ProviderName } from '../db/schema.js';
import { BYOError, type ErrorBody, errorBody, toBYOError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { providerErrorBody, providerErrorHeaders } from '../providers/wire/error-body.js';

/**
 * The one place an error becomes what a client sees. A BYOError is rendered as it is; anything
 * else goes through toBYOError, and one that ends up as internal_error is logged here (with the
 * request id the client gets) and never echoed: the client sees only the generic message.
 */

export interface RenderedError<B> {
  status: number;
  /** `x-byo-error-source: byo` always; `retry-after` where the error has one. */
  headers: Record<string, string>;
  body: B;
  error: BYOError;
}

/** Where unexpected errors are logged, and under which message. */
export interface ErrorLog {
  logger: Logger;
  message?: string;
}

/** Maps anything thrown to a BYOError, logging an unexpected one. */
export function asBYOError(err: unknown, requestId: string, log?: ErrorLog): BYOError {
  if (err instanceof BYOError) return err;
  const e = toBYOError(err);
  if (e.code === 'internal_error') log?.logger.error({ err, reqId: requestId }, log.message ?? 'unexpected error');
  return e;
}

function errorHeaders(e: BYOError): Record<string, string> {
  const headers: Record<string, string> = { 'x-byo-error-source': 'byo' };
  if (e.retryAfter) headers['retry-after'] = String(e.retryAfter);
  return headers;
}

/** BYO's own `{ code, message, requestId }` (+ `issues`) error, for the REST API and Fastify. */
export function renderError(err: unknown, requestId: string, log?: ErrorLog): RenderedError<ErrorBody> {
  const e = asBYOError(err, requestId, log);
  return { status: e.status, headers: errorHeaders(e), body: errorBody(e, requestId), error: e };
}

/**
 * The proxy's variant: the body in the provider's own error shape (so its SDK raises a typed
 * error), serialized, with the headers a raw `writeHead` needs. Only built on the error path.
 */
export function renderProviderError(provider: ProviderName, err: unknown, requestId: string, log?: ErrorLog): RenderedError<string> {
  const e = asBYOError(err, requestId, log);
  const shaped = { status: e.status, message: e.message, code: e.code, requestId };
  const body = JSON.stringify(providerErrorBody(provider, shaped));
  const headers = errorHeaders(e);
  const extra = providerErrorHeaders(provider, shaped);
  if (extra) Object.assign(headers, extra);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(body));
  headers['x-byo-request-id'] = requestId;
  // Official SDKs retry 409 and 5xx by default; a BYO 4xx will not change by retrying.
  // A spend limit resets with its window: retrying before Retry-After (which SDKs cap at a minute) is pointless.
  if ((e.status < 500 && e.status !== 429) || (e.code === 'limit_exceeded' && (e.retryAfter ?? 0) > 60))
    headers['x-should-retry'] = 'false';
  return { status: e.status, headers, body, error: e };
}
