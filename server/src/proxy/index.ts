import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';
import { metricsFor, registerMetricsRoute } from '../observability/metrics.js';
import { UsageRecorder } from '../usage/recorder.js';
import { newRequestId } from '../http/request-id.js';
import { PROVIDERS, PROXY_PREFIX, ProxyHandler } from './handler.js';
import { ProviderKeyResolver } from './provider-key.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The proxy feature: `ANY /v1/proxy/{provider}/*`, the usage writer and `GET /metrics`.
 *
 * Proxied calls are taken from the HTTP server before Fastify (below). The Fastify route
 * (still used for access logging and for odd URLs) lives in its own encapsulated plugin
 * without Fastify's body parsers: a catch-all parser leaves the request stream unread, so the
 * body flows to the provider with backpressure and no size limit; neither path goes through
 * tRPC or the REST adapter.
 */
export async function proxyFeature(app: App): Promise<void> {
  const { fastify, services } = app;
  const metrics = metricsFor(services);
  registerMetricsRoute(fastify, metrics, services.config);

  const recorder = new UsageRecorder(services.db, services.logger, {
    flushIntervalMs: services.config.BYO_USAGE_FLUSH_INTERVAL,
    onFlush: (n) => metrics.usageWritten.inc(n),
    onDrop: (n) => metrics.usageDropped.inc(n),
    onRefused: (n, reason) => metrics.usageRowsDropped.inc({ reason }, n),
    prices: services.prices,
  });
  recorder.start();
  services.flushUsage = () => recorder.flush();
  app.onClose(() => recorder.close());

  const keys = new ProviderKeyResolver(services, () => metrics.keyDecryptFailures.inc());
  const handler = new ProxyHandler({ services, metrics, recorder, keys, limits: services.limits });

  // Proxied calls skip Fastify: the HTTP server hands `/v1/proxy/{provider}/...` with a method
  // the route takes straight to the handler (Fastify's routing, hooks and reply objects cost
  // about a fifth of a call's CPU); everything else, and any odd proxy URL, goes to Fastify,
  // whose route below answers the same way.
  const server = fastify.server;
  const [fastifyListener] = server.listeners('request') as RequestListener[];
  // With BYO_PROXY_ACCESS_LOG, calls go through Fastify, which writes the access lines.
  if (fastifyListener && !services.config.BYO_PROXY_ACCESS_LOG) {
    let closing = false;
    fastify.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    server.removeListener('request', fastifyListener);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const provider = proxiedProvider(req);
      if (provider === null) return fastifyListener(req, res);
      // Shutting down: serve it, then close the connection (as Fastify does for its routes).
      if (closing) res.setHeader('connection', 'close');
      handler.handleRaw(req, res, newRequestId(), provider);
    });
  }

  await fastify.register(async (scope) => {
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

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
const RAW_METHODS: ReadonlySet<string> = new Set(METHODS);

/** The provider of a `/v1/proxy/{provider}/...` request with a method the proxy takes, else null. */
function proxiedProvider(req: IncomingMessage): string | null {
  const url = req.url ?? '';
  if (!url.startsWith(PROXY_PREFIX) || !RAW_METHODS.has(req.method ?? '')) return null;
  const slash = url.indexOf('/', PROXY_PREFIX.length);
  const provider = slash === -1 ? '' : url.slice(PROXY_PREFIX.length, slash);
  // Anything but a provider BYO serves (unknown, empty, encoded, `?`) is Fastify's route's to answer.
  return PROVIDERS.has(provider) ? provider : null;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type Level = (typeof LEVELS)[number];
/** At least `warn`: Fastify's per-request lines are `info`. */
function quieter(level: Level): Level {
  return LEVELS.indexOf(level) > LEVELS.indexOf('warn') ? level : 'warn';
}
