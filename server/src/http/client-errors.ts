import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { BYOError, type ErrorCode, errorBody } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * Requests node's HTTP parser rejects before Fastify sees them (malformed request line or
 * headers, headers too large, a client too slow to send its headers or body) still get
 * BYO's `{ code, message, requestId }` body and `x-byo-error-source: byo` (on a proxy URL, the
 * client must not take them for the provider's), then the connection is closed.
 */
export function clientErrorHandler(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // A request on this connection is being answered and the parser choked on what came after
    // it (bytes after a `Connection: close` request or after a whole request, such as a body
    // sent with an OPTIONS that has no Content-Length), or the answer has started: a second
    // response would corrupt the stream or answer the wrong request, destroying the socket
    // would lose the first. Let it finish, then close. Otherwise (a broken or too slow
    // request) answer here and close.
    const inFlight = (socket as Socket & { _httpMessage?: import('node:http').ServerResponse | null })._httpMessage;
    if (inFlight && (inFlight.headersSent || err.code === 'HPE_CLOSED_CONNECTION' || inFlight.req?.complete)) {
      if (inFlight.writableFinished) socket.end();
      else inFlight.once('finish', () => socket.end()).once('close', () => socket.end());
      return;
    }
    if (!inFlight && err.code === 'HPE_CLOSED_CONNECTION') {
      socket.end();
      return;
    }
    let status = 400;
    let code: ErrorCode = 'bad_request';
    let message = 'Malformed HTTP request.';
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      code = 'request_timeout';
      message = 'The request was not received in time.';
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      code = 'headers_too_large';
      message = 'The request headers are too large.';
    }
    const requestId = `req_${randomBytes(12).toString('base64url')}`;
    logger.debug({ reqId: requestId, code: err.code }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify(errorBody(new BYOError(code, message), requestId));
      socket.write(
        `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Content-Type-Options: nosniff\r\nX-BYO-Request-Id: ${requestId}\r\nX-BYO-Error-Source: byo\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/**
 * Fastify's own early failures (a URL whose percent-encoding does not decode) skip the
 * hooks and the error handler; answer them in BYO's shape too.
 */
export function frameworkErrorHandler(_err: Error, request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply): void {
  void reply
    .code(400)
    .header('x-byo-request-id', request.id)
    .header('x-byo-error-source', 'byo')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(errorBody(new BYOError('bad_request', 'The request URL is malformed.'), request.id));
}
