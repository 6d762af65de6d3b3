import type { FastifyError, FastifyInstance } from 'fastify';
import { BYOError, errorBody, toBYOError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * Fastify-level failures (body too large, bad JSON, unknown route) in BYO's error shape, with
 * `x-byo-error-source: byo` as every error BYO produces (a proxy URL's unknown method included).
 */
export function registerErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let e: BYOError;
    if (err instanceof BYOError) e = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new BYOError('payload_too_large', 'The request body is too large.');
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      e = new BYOError('unsupported_media_type', 'Send the body as application/json.');
    else if (
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      (err.statusCode === 400 && err instanceof SyntaxError)
    )
      e = new BYOError('bad_request', 'The request body is not valid JSON.');
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) e = new BYOError('bad_request', 'Bad request.');
    else {
      e = toBYOError(err);
      if (e.code === 'internal_error') logger.error({ err, reqId: request.id }, 'unexpected error');
    }
    if (e.retryAfter) void reply.header('retry-after', String(e.retryAfter));
    void reply.header('x-byo-error-source', 'byo');
    void reply.code(e.status).type('application/json').send(errorBody(e, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .header('x-byo-error-source', 'byo')
      .send(errorBody(new BYOError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`), request.id));
  });
}

/**
 * The tRPC and REST `onError` hook: a failure tRPC saw as internal is logged as an error only
 * if it is one; a database outage is a warning (every request says so while it lasts), and a
 * value the database refused is the caller's mistake, not logged.
 */
export function logProcedureError(logger: Logger, error: { code: string; cause?: unknown }): void {
  if (error.code !== 'INTERNAL_SERVER_ERROR') return;
  const cause = error.cause ?? error;
  const e = toBYOError(cause);
  if (e.code === 'internal_error') logger.error({ err: cause }, 'unexpected error');
  else if (e.code === 'database_unavailable') logger.warn({ err: cause }, 'database unavailable');
}
