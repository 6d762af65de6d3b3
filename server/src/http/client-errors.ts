import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { BYOError } from '../errors.js';
import { renderError } from '../errors/render.js';
import type { Logger } from '../observability/logger.js';
import { newRequestId } from './request-id.js';

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
    let error = new BYOError('bad_request', 'Malformed HTTP request.');
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') error = new BYOError('request_timeout', 'The request was not received in time.');
    else if (err.code === 'HPE_HEADER_OVERFLOW') error = new BYOError('headers_too_large', 'The request headers are too large.');
    const requestId = newRequestId();
    logger.debug({ reqId: requestId, code: err.code }, 'client error');
    if (socket.writable) {
      const { status, headers, body } = renderError(error, requestId);
      const json = JSON.stringify(body);
      const lines = [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(json)}`,
        'X-Content-Type-Options: nosniff',
        `X-BYO-Request-Id: ${requestId}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        'Connection: close',
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n${json}`);
    }
    socket.destroy();
  };
}

/**
 * Fastify's own early failures (a URL whose percent-encoding does not decode) skip the
 * hooks and the error handler; answer them in BYO's shape too.
 */
export function frameworkErrorHandler(_err: Error, request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply): void {
  const { status, headers, body } = renderError(new BYOError('bad_request', 'The request URL is malformed.'), request.id);
  void reply
    .code(status)
    .headers(headers)
    .header('x-byo-request-id', request.id)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(body);
}
