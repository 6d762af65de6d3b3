import type { FastifyError, FastifyInstance } from 'fastify';
import { BYOError, errorBody, toBYOError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/** Fastify-level failures (body too large, bad JSON, unknown route) in BYO's error shape. */
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
    void reply.code(e.status).type('application/json').send(errorBody(e, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(new BYOError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`), request.id));
  });
}
