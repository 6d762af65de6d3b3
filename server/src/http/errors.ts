import type { FastifyError, FastifyInstance } from 'fastify';
import { BYOError, toBYOError } from '../errors.js';
import { renderError } from '../errors/render.js';
import type { Logger } from '../observability/logger.js';

/**
 * Fastify-level failures (body too large, bad JSON, unknown route) in BYO's error shape, with
 * `x-byo-error-source: byo` as every error BYO produces (a proxy URL's unknown method included).
 */
export function registerErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, headers, body } = renderError(fromFastify(err), request.id, { logger });
    void reply.code(status).headers(headers).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, headers, body } = renderError(
      new BYOError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
      request.id,
    );
    void reply.code(status).headers(headers).send(body);
  });
}

/** Fastify's own failures as BYO codes; anything else (a thrown BYOError included) as it is. */
function fromFastify(err: FastifyError): unknown {
  if (err instanceof BYOError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new BYOError('payload_too_large', 'The request body is too large.');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new BYOError('unsupported_media_type', 'Send the body as application/json.');
  if (
    err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    (err.statusCode === 400 && err instanceof SyntaxError)
  )
    return new BYOError('bad_request', 'The request body is not valid JSON.');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new BYOError('bad_request', 'Bad request.');
  return err;
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
