import { randomBytes } from 'node:crypto';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Authenticator } from './auth/authenticator.js';
import type { Config } from './config.js';
import { openStorage } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ProviderKeyCache } from './domain/provider-key-cache.js';
import { KeyWriteBatcher } from './domain/provider-key-writes.js';
import { registerCors } from './http/cors.js';
import { clientErrorHandler, frameworkErrorHandler } from './http/client-errors.js';
import { logProcedureError, registerErrorHandlers } from './http/errors.js';
import { registerJsonBodyParser } from './http/json-body.js';
import { registerHealth } from './http/health.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { RateLimits } from './http/rate-limits.js';
import { registerRest } from './http/rest.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { createGuardedAgent, createTrustedAgent } from './net/agents.js';
import { SsrfGuard } from './net/ssrf.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { createLimits } from './limits/index.js';
import { PriceBook } from './pricing/overrides.js';
import { providerSpecs } from './providers/catalog.js';
import { AccessTokens } from './providers/vertex/token.js';
import type { Services } from './services.js';
import { contextFromRequest } from './trpc/context.js';
import { appRouter } from './trpc/router.js';
import { type Keyring, parseKeyring, loadOrCreateDevKeyFile } from './vault/keyring.js';
import { newRequestId } from './http/request-id.js';
import { Vault } from './vault/vault.js';
import { WebhookSecretCache } from './webhooks/signing-secrets.js';
import { ConfigError } from './config.js';

export interface App {
  fastify: FastifyInstance;
  services: Services;
  /** Extra shutdown steps registered by subsystems (dispatcher, usage writer). */
  onClose: (fn: () => Promise<void> | void) => void;
  close: () => Promise<void>;
}

function resolveKeyring(config: Config, logger: Logger): Keyring {
  if (config.BYO_MASTER_KEYS) return parseKeyring(config.BYO_MASTER_KEYS);
  if (config.mode === 'postgres') {
    throw new ConfigError(
      "BYO_MASTER_KEYS is required with DATABASE_URL: set it to \"id:base64-of-32-bytes\" (generate one with `byo secrets generate-master-key` or `node -e \"console.log('mk1:'+require('crypto').randomBytes(32).toString('base64'))\"`).",
    );
  }
  if (config.BYO_EMBEDDED_STORAGE === 'memory') return parseKeyring(`mem:${randomBytes(32).toString('base64')}`);
  const file = loadOrCreateDevKeyFile(config.BYO_DATA_DIR);
  if (file.created)
    logger.warn({ path: file.path }, 'generated a development master key file (mode 0600); set BYO_MASTER_KEYS in production');
  return parseKeyring(file.spec);
}

/** Builds every service and the HTTP server, runs migrations; does not listen. */
export async function buildApp(config: Config, logger: Logger): Promise<App> {
  const keyring = resolveKeyring(config, logger);
  const storage = await openStorage({
    databaseUrl: config.DATABASE_URL,
    schema: config.BYO_DATABASE_SCHEMA,
    dataDir: config.BYO_DATA_DIR,
    memory: config.BYO_EMBEDDED_STORAGE === 'memory',
    logger,
    queryTimeoutMs: config.BYO_DATABASE_QUERY_TIMEOUT,
  });
  await migrateToLatest(storage.db, config.BYO_DATABASE_SCHEMA);

  const guard = new SsrfGuard({ allowedHosts: config.BYO_ALLOWED_UPSTREAM_HOSTS });
  const agentOpts = {
    connectTimeout: config.BYO_UPSTREAM_CONNECT_TIMEOUT,
    headersTimeout: config.BYO_UPSTREAM_HEADERS_TIMEOUT,
    bodyTimeout: config.BYO_UPSTREAM_BODY_TIMEOUT,
    connections: config.BYO_UPSTREAM_CONNECTIONS,
  };
  const auth = new Authenticator(storage, config.BYO_ADMIN_TOKEN);
  const keyCache = new ProviderKeyCache(storage, config.BYO_KEY_CACHE_TTL, config.BYO_KEY_CACHE_MAX);
  await auth.start();
  await keyCache.start();
  const prices = new PriceBook(storage.db, storage);
  await prices.start();
  const limits = createLimits({
    db: storage.db,
    storage,
    prices,
    logger,
    redisUrl: config.REDIS_URL,
    redisPrefix: config.BYO_REDIS_PREFIX ?? config.BYO_DATABASE_SCHEMA ?? 'byo',
    onEventsCommitted: () => services.onEventsCommitted(),
  });
  await limits.start();

  const agents = { trusted: createTrustedAgent(agentOpts), guarded: createGuardedAgent(guard, agentOpts) };
  const services: Services = {
    config,
    logger,
    storage,
    db: storage.db,
    vault: new Vault(keyring),
    auth,
    keyCache,
    keyWrites: new KeyWriteBatcher({ db: storage.db, storage }),
    metrics: new Metrics({ keyCache }),
    // Read when a request asks, so after `fastify` below is built and listening.
    serverAddress: () => fastify.server.address(),
    running: {},
    webhookSecrets: new WebhookSecretCache(),
    prices,
    limits,
    providers: providerSpecs(config),
    guard,
    agents,
    signing: {
      ...agents,
      hostAllowed: (hostname, port) => guard.hostAllowed(hostname, port),
      now: Date.now,
      tokens: new AccessTokens(config.BYO_KEY_CACHE_MAX),
    },
    rateLimits: new RateLimits({
      perKey: config.BYO_RATE_LIMIT_CONNECT_PER_KEY,
      perIp: config.BYO_RATE_LIMIT_CONNECT_PER_IP,
      windowMs: config.BYO_RATE_LIMIT_WINDOW,
      perSecretKeyPerSecond: config.BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY,
      redisUrl: config.REDIS_URL,
      prefix: config.BYO_REDIS_PREFIX ?? config.BYO_DATABASE_SCHEMA ?? 'byo',
      pgPool: storage.pool,
    }),
    onEventsCommitted: () => {},
  };

  const fastify: FastifyInstance = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    genReqId: newRequestId,
    requestIdHeader: false,
    bodyLimit: 64 * 1024,
    trustProxy: config.BYO_TRUST_PROXY,
    return503OnClosing: true,
    connectionTimeout: 0,
    // Slow clients (slowloris): the whole request must arrive within BYO_HTTP_REQUEST_TIMEOUT, its
    // headers within BYO_HTTP_HEADERS_TIMEOUT; node checks both every connectionsCheckingInterval.
    requestTimeout: config.BYO_HTTP_REQUEST_TIMEOUT,
    http: { connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(config.BYO_HTTP_HEADERS_TIMEOUT / 3))) },
    clientErrorHandler: clientErrorHandler(logger),
    frameworkErrors: frameworkErrorHandler,
    keepAliveTimeout: 72_000,
    routerOptions: { maxParamLength: 1024 },
  });
  fastify.server.headersTimeout = Math.min(config.BYO_HTTP_HEADERS_TIMEOUT, config.BYO_HTTP_REQUEST_TIMEOUT);

  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-byo-request-id', request.id);
  });

  registerSecurityHeaders(fastify);
  registerJsonBodyParser(fastify);
  registerErrorHandlers(fastify, logger);
  registerHealth(fastify, services);
  registerCors(fastify);

  const openapi = buildOpenApiDocument(appRouter);
  fastify.get('/v1/openapi.json', async () => openapi);

  await fastify.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: ({ req, res }: { req: import('fastify').FastifyRequest; res: import('fastify').FastifyReply }) =>
        contextFromRequest(services, req, (n, v) => void res.header(n, v), { dashboard: true }),
      onError: ({ error }: { error: import('@trpc/server').TRPCError }) => {
        logProcedureError(logger, error);
      },
    },
  });
  registerRest(fastify, services, appRouter);
  // tRPC answers a request it cannot read (no or another content type) as text/plain, with a JSON body.
  fastify.addHook('onSend', async (_request, _reply, payload) => {
    if (!(payload instanceof Response) || !payload.headers.get('content-type')?.startsWith('text/plain')) return payload;
    const headers = new Headers(payload.headers);
    headers.set('content-type', 'application/json; charset=utf-8');
    return new Response(payload.body, { status: payload.status, statusText: payload.statusText, headers });
  });

  const closers: (() => Promise<void> | void)[] = [];
  let closed = false;
  return {
    fastify,
    services,
    onClose: (fn) => closers.push(fn),
    async close() {
      if (closed) return;
      closed = true;
      // fastify.close() waits for every connection to end, and a keep-alive connection whose
      // request was in flight at SIGTERM stays open once its response is sent (up to
      // keepAliveTimeout): close such connections as soon as they fall idle.
      const sweep = setInterval(() => fastify.server.closeIdleConnections(), 100);
      try {
        await fastify.close();
      } finally {
        clearInterval(sweep);
      }
      for (const fn of closers.reverse()) await fn();
      await services.rateLimits.close();
      await services.limits.close();
      await Promise.allSettled([services.agents.trusted.close(), services.agents.guarded.close()]);
      await storage.close();
    },
  };
}
