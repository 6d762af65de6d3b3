import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import { TRPCError } from '@trpc/server';
import { BYOError, ERROR_STATUS, type ErrorBody, type ErrorCode, type ErrorIssue } from '../errors.js';
import { type RenderedError, renderError } from '../errors/render.js';
import type { Services } from '../services.js';
import { logProcedureError } from './errors.js';
import { contextFromRequest } from '../trpc/context.js';
import { createCallerFactory, domainError } from '../trpc/init.js';
import type { AppRouter } from '../trpc/router.js';

/**
 * The REST surface (`/v1/...`) over the tRPC router, via trpc-to-openapi. The adapter's own
 * error body uses tRPC codes; this shim rewrites it to BYO's `{ code, message, requestId }`
 * from the errorFormatter's data, so both surfaces share one error shape.
 */
export function registerRest(app: FastifyInstance, services: Services, router: AppRouter): void {
  const handler = createOpenApiNodeHttpHandler({
    router,
    createContext: ({ req }: { req: FastifyRequest }) =>
      contextFromRequest(services, req, (n, v) => void (req as unknown as { reply: FastifyReply }).reply.header(n, v)),
    maxBodySize: 64 * 1024,
    onError: ({ error }: { error: import('@trpc/server').TRPCError }) => {
      logProcedureError(services.logger, error);
    },
  } as never);

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const req = request as unknown as FastifyRequest & Record<string, unknown>;
    req.reply = reply;
    req.raw.url = decodeSafePath(request.url.replace(/^\/v1/, ''));
    // The adapter resolves `.` and `..` segments (raw or `%2e`): `/v1/keys/openai/%2e%2e` would
    // be the list route. No route has such a segment and no refId is only dots: refuse.
    if (DOT_SEGMENT.test(req.raw.url)) {
      return sendError(
        reply,
        renderError(new BYOError('validation_failed', 'A path segment may not be "." or ".." (a refId is never only dots).'), request.id),
      );
    }
    // A POST with no body at all (`curl -X POST .../revoke`) is an empty JSON object, not a 415.
    const h = request.headers;
    if (!h['content-type'] && request.body === undefined && !h['transfer-encoding'] && (h['content-length'] ?? '0') === '0')
      h['content-type'] = 'application/json';
    req.once = request.raw.once.bind(request.raw);
    req.on = request.raw.on.bind(request.raw);
    req.off = request.raw.off.bind(request.raw);
    req.destroy = request.raw.destroy.bind(request.raw);
    const res = reply as unknown as FastifyReply & Record<string, unknown>;
    Object.defineProperty(res, 'statusCode', {
      set: (v: number) => void reply.code(v),
      get: () => reply.raw.statusCode,
      configurable: true,
    });
    res.setHeader = (k: string, v: string) => void reply.header(k, v);
    res.end = (data: string | undefined) => {
      if (reply.sent) return;
      if (reply.statusCode >= 400 && data) {
        // The status follows BYO's code (one table), also where tRPC saw only an internal error:
        // a database outage is a 503 to retry, a value the database refused is a 400.
        sendError(reply, renderError(adapterError(data), request.id));
      } else if (reply.statusCode === 204 || data === undefined) void reply.send();
      else void reply.send(data);
    };
    for (const k of ['once', 'on', 'off', 'emit', 'removeListener'] as const)
      res[k] = (reply.raw[k] as (...a: unknown[]) => unknown).bind(reply.raw);
    res.socket = reply.raw.socket;
    // The adapter's request signal aborts on 'close' unless the response has ended: without this
    // every completed request was "aborted" (an AbortController and a DOMException per request).
    Object.defineProperty(res, 'writableEnded', { get: () => reply.raw.writableEnded, configurable: true });
    await handler(req as never, res as never);
    return reply;
  };

  // The hot write: POST /v1/keys/connect calls its procedure directly (the same procedure,
  // middlewares, connect policy, schemas and error renderer), without the generic adapter,
  // which costs about 0.4 ms of CPU per connect (a Fetch Request and an AbortSignal per call, a
  // regex scan of every route, the reply shim): a quarter of connect throughput, measured in
  // docs/performance.md. Other methods and paths go through the adapter below.
  const caller = createCallerFactory(router);
  app.post('/v1/keys/connect', async (request, reply) => {
    // As the adapter: JSON only (Fastify would also parse text/plain); no body at all is `{}`.
    if (request.body !== undefined && !String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendError(reply, renderError(new BYOError('unsupported_media_type', 'Send the body as application/json.'), request.id));
    }
    const ctx = contextFromRequest(services, request, (n, v) => void reply.header(n, v));
    try {
      return await caller(ctx).keys.connect((request.body ?? {}) as never);
    } catch (err) {
      const error = err instanceof TRPCError ? err : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: err });
      logProcedureError(services.logger, error);
      return sendError(reply, renderError(domainError(error), request.id));
    }
  });

  // No implicit HEAD: the adapter answers HEAD on any path with 204 without running anything.
  app.route({ method: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'], url: '/v1/*', exposeHeadRoute: false, handler: handle });
}

/** A `.` or `..` segment in the path (before any query). */
const DOT_SEGMENT = /^[^?]*\/\.\.?(?:[/?]|$)/;

/**
 * The adapter matches path parameters on the raw path and does not decode them, so a refId
 * sent percent-encoded (`a%3Ab`, as clients encode it) would not match its own schema.
 * Decodes escapes of the characters a path parameter may hold; others stay encoded (and fail
 * validation), so an encoded `/` can never split a parameter.
 */
export function decodeSafePath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /^[A-Za-z0-9_.:@+~-]$/.test(c) ? c : m;
  });
  return q === -1 ? decoded : decoded + url.slice(q);
}

/** Sends a rendered error; a `retry-after` the procedure set already (its own value) wins. */
function sendError(reply: FastifyReply, { status, headers, body }: RenderedError<ErrorBody>): FastifyReply {
  for (const [name, value] of Object.entries(headers)) if (!reply.hasHeader(name)) void reply.header(name, value);
  return reply.code(status).send(body);
}

/**
 * The BYOError behind the adapter's error body, rebuilt from the errorFormatter's `data` (the
 * adapter replaces the message of input errors with a generic one; the formatter's is in data).
 * Its status follows BYO's code (one table), also where tRPC saw only an internal error: a
 * database outage is a 503 to retry, a value the database refused is a 400.
 */
function adapterError(raw: string): BYOError {
  try {
    const parsed = JSON.parse(raw) as { data?: { code?: string; issues?: unknown; message?: string }; message?: string };
    const code = parsed.data?.code;
    if (!code || !(code in ERROR_STATUS)) return new BYOError('internal_error', 'Internal error.');
    return new BYOError(code as ErrorCode, parsed.data?.message ?? parsed.message ?? 'Error', {
      issues: Array.isArray(parsed.data?.issues) ? (parsed.data.issues as ErrorIssue[]) : undefined,
      retryAfter: code === 'database_unavailable' ? 2 : undefined,
    });
  } catch {
    return new BYOError('internal_error', 'Internal error.');
  }
}
