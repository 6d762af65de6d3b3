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
  await keys.start();
  const handler = new ProxyHandler({ services, metrics, recorder, keys });

  await fastify.register(async (scope) => {
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

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type Level = (typeof LEVELS)[number];
/** At least `warn`: Fastify's per-request lines are `info`. */
function quieter(level: Level): Level {
  return LEVELS.indexOf(level) > LEVELS.indexOf('warn') ? level : 'warn';
}
