import { randomBytes } from 'node:crypto';
import type { App } from '../app.js';
import { metricsFor, registerMetricsRoute } from '../observability/metrics.js';
import { UsageRecorder } from '../usage/recorder.js';
import { ProxyHandler } from './handler.js';
import { ProviderKeyResolver } from './keys.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The proxy feature: `ANY /v1/proxy/{provider}/*`, the usage writer and `GET /metrics`.
 *
 * The route lives in its own encapsulated plugin without Fastify's body parsers: a
 * catch-all parser leaves the request stream unread, so the body flows to the provider
 * with backpressure and no size limit; it does not go through tRPC or the REST adapter.
 */
export async function proxyFeature(app: App): Promise<void> {
  const { fastify, services } = app;
  const metrics = metricsFor(services);
  registerMetricsRoute(fastify, metrics);

  const recorder = new UsageRecorder(services.db, services.logger, {
    flushIntervalMs: services.config.BYO_USAGE_FLUSH_INTERVAL,
    onFlush: (n) => metrics.usageWritten.inc(n),
    onDrop: (n) => metrics.usageDropped.inc(n),
  });
  recorder.start();
  services.flushUsage = () => recorder.flush();
  app.onClose(() => recorder.close());

  const keys = new ProviderKeyResolver(services, () => metrics.keyDecryptFailures.inc());
  const handler = new ProxyHandler({ services, metrics, recorder, keys });

  await fastify.register(async (scope) => {
    scope.setGenReqId(requestId);
    if (!services.config.BYO_PROXY_ACCESS_LOG) {
      // One quiet child logger for every proxied request instead of a new one per request;
      // the handler logs its own warnings and errors with the request id.
      const quiet = fastify.log.child({}, { level: quieter(services.config.LOG_LEVEL) });
      scope.setChildLoggerFactory(() => quiet);
    }
    scope.removeAllContentTypeParsers();
    // Leave the body unread: the handler streams `request.raw` upstream.
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.route({
      method: [...METHODS],
      url: '/v1/proxy/:provider/*',
      // Per-request access lines cost as much as the proxying itself; metrics and usage
      // records cover every call, and warnings and errors are still logged.
      logLevel: services.config.BYO_PROXY_ACCESS_LOG ? services.config.LOG_LEVEL : quieter(services.config.LOG_LEVEL),
      handler: handler.handle,
    });
  });
}

/**
 * Request ids in the app's format (`req_` + 16 base64url characters of randomness), drawn
 * from a pool filled 4 KiB at a time: one `randomBytes` call per request costs a visible
 * share of a proxied call.
 */
let pool = Buffer.alloc(0);
let offset = 0;
function requestId(): string {
  if (offset + 12 > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += 12;
  return `req_${pool.toString('base64url', offset - 12, offset)}`;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type Level = (typeof LEVELS)[number];
/** At least `warn`: Fastify's per-request lines are `info`. */
function quieter(level: Level): Level {
  return LEVELS.indexOf(level) > LEVELS.indexOf('warn') ? level : 'warn';
}
