import { z } from 'zod';
import { PROVIDERS } from './providers/registry.js';

/**
 * The one module that reads `process.env`. Everything else receives a typed `Config`.
 * Parsing fails with an error that names the bad variable, never its value.
 */

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)?$/, 'expected a duration such as 500ms, 30s, 5m, 24h')
  .transform(parseDuration);

export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new Error(`invalid duration "${value}"`);
  const n = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1;
  return n * mult;
}

/**
 * The longest delay Node.js timers accept (2^31-1 ms, about 24.8 days). A longer one is
 * replaced by 1 ms (with a TimeoutOverflowWarning), so a timer meant to wait a month would fire
 * back to back instead.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration that arms a timer (a timeout or an interval): at most MAX_TIMER_MS. */
const timer = duration.refine(
  (ms) => ms <= MAX_TIMER_MS,
  'must be at most 2147483647ms (about 24.8 days, the longest timer Node.js can set), e.g. 24d',
);

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/** `BYO_<ID>_BASE_URL` of every provider that has one (not Azure: each key names its endpoint). */
type ProviderBaseUrlVariables = {
  [P in (typeof PROVIDERS)[number] as P extends { baseUrlEnv: infer E extends string } ? E : never]: P extends { signer: object }
    ? z.ZodOptional<z.ZodURL>
    : z.ZodDefault<z.ZodURL>;
};

/** A signed provider's default base depends on each key's region or location: its variable has no default. */
function providerBaseUrlVariables(): ProviderBaseUrlVariables {
  return Object.fromEntries(
    PROVIDERS.flatMap((p) =>
      'baseUrlEnv' in p ? [[p.baseUrlEnv, 'signer' in p ? z.url().optional() : z.url().default(p.defaultBaseUrl)]] : [],
    ),
  ) as ProviderBaseUrlVariables;
}

export const EnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Public URL of this server, used in links (embed page, docs). Defaults to http://HOST:PORT. */
  BYO_PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  /** Longest wait for one PostgreSQL query before the request fails with 503 (a partitioned database never answers). */
  BYO_DATABASE_QUERY_TIMEOUT: timer.default(10_000),
  /** PostgreSQL schema to use (tests run each server in its own schema). */
  BYO_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .optional(),
  BYO_DATA_DIR: z.string().default('./.byo'),
  /** `memory` keeps the embedded database in memory (tests). */
  BYO_EMBEDDED_STORAGE: z.enum(['disk', 'memory']).default('disk'),
  BYO_MASTER_KEYS: z.string().optional(),
  BYO_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Operator dashboard (/dashboard): a session ends after this long without a request, and in any case after the max age. */
  BYO_DASHBOARD_IDLE_TIMEOUT: duration.default(30 * 60_000),
  BYO_DASHBOARD_SESSION_MAX_AGE: duration.default(12 * 3_600_000),
  /** `BYO_<ID>_BASE_URL` for every provider in the registry: where its calls go (tests, private endpoints). */
  ...providerBaseUrlVariables(),
  /** Hosts, host:port pairs or CIDR ranges that custom base URLs and webhooks may reach although private. */
  BYO_ALLOWED_UPSTREAM_HOSTS: csv.default([]),
  /** Allow plain http:// for custom base URLs and webhook URLs (the allow-listed hosts always may). */
  BYO_ALLOW_HTTP_UPSTREAMS: bool.default(false),
  BYO_UPSTREAM_CONNECT_TIMEOUT: timer.default(10_000),
  BYO_UPSTREAM_HEADERS_TIMEOUT: timer.default(60_000),
  BYO_UPSTREAM_BODY_TIMEOUT: timer.default(300_000),
  /** Connections per upstream origin (each provider, each custom base URL or webhook origin) in one process. */
  BYO_UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(65_536).default(4096),
  BYO_KEY_CACHE_TTL: duration.default(60_000),
  BYO_KEY_CACHE_MAX: z.coerce.number().int().min(0).default(10_000),
  /** How often each active provider key is checked with its provider (docs/key-health.md); 0 turns scheduled checks off. */
  BYO_KEY_HEALTH_INTERVAL: duration.default(86_400_000),
  /** Consecutive checks the provider refuses a key at before BYO disables it (key.disabled). */
  BYO_KEY_DISABLE_AFTER: z.coerce.number().int().min(1).max(1000).default(2),
  /** Checks one process runs at once against one provider (each provider sees at most this times the processes). */
  BYO_KEY_HEALTH_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(4),
  BYO_SANDBOX: bool.default(true),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//)
    .optional(),
  /** Key prefix in Redis; instances that share rate limits use the same one. Default: the database schema, else `byo`. */
  BYO_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_:.-]{1,64}$/)
    .optional(),
  BYO_RATE_LIMIT_CONNECT_PER_KEY: z.coerce.number().int().min(1).default(60),
  BYO_RATE_LIMIT_CONNECT_PER_IP: z.coerce.number().int().min(1).default(20),
  BYO_RATE_LIMIT_WINDOW: duration.default(60_000),
  /** Connects one secret key may make per second (shared through Redis like the others); 0 = no limit. */
  BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY: z.coerce.number().int().min(0).default(100),
  BYO_WEBHOOK_SCHEDULE: z.string().default('0,5s,5m,30m,2h,5h,10h,10h'),
  BYO_WEBHOOK_TIMEOUT: timer.default(10_000),
  /**
   * How often the dispatcher looks for retries that came due and for claims a stopped server left.
   * New events wake it at once (and other instances through LISTEN/NOTIFY), so this only bounds
   * how late a retry may be; each look is two queries, which show in the proxy's tail latency.
   */
  BYO_WEBHOOK_POLL_INTERVAL: timer.default(1000),
  BYO_WEBHOOK_DISABLE_AFTER: duration.default(5 * 86_400_000),
  BYO_WEBHOOKS: bool.default(true),
  /** Webhook deliveries in flight at once per server process. */
  BYO_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  /** Deliveries one endpoint may have in flight, over every instance. Default: half of BYO_WEBHOOK_CONCURRENCY. 0 = no cap. */
  BYO_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(0).optional(),
  /** Deliveries one project (both modes) may have in flight, over every instance. Default: three quarters of BYO_WEBHOOK_CONCURRENCY. 0 = no cap. */
  BYO_WEBHOOK_MAX_IN_FLIGHT_PER_PROJECT: z.coerce.number().int().min(0).optional(),
  /** Days finished webhook events and deliveries are kept before the pruner deletes them; 0 keeps them forever. The audit log is never pruned. */
  BYO_EVENT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  /** How often the retention pruner runs (±10 % jitter; the first run comes shortly after start). At most MAX_TIMER_MS (24d 20h 31m). */
  BYO_EVENT_RETENTION_INTERVAL: timer.refine((ms) => ms > 0, 'must be more than 0').default(3_600_000),
  BYO_USAGE_FLUSH_INTERVAL: timer.default(1000),
  /** One access log line per proxied call (off by default: metrics and usage records cover every call). */
  BYO_PROXY_ACCESS_LOG: bool.default(false),
  /** Proxied calls one project (and mode) may have in flight in one process; beyond it, 429. 0 = no cap. */
  BYO_PROXY_MAX_CONCURRENCY: z.coerce.number().int().min(0).default(1024),
  /** The same, per project (and mode) and custom base-URL origin, whose pool projects may share. 0 = no cap. */
  BYO_PROXY_MAX_CONCURRENCY_PER_ORIGIN: z.coerce.number().int().min(0).default(256),
  /** A client that reads nothing of a response for this long (backpressure) is cut off, freeing its upstream connection. 0 = never. */
  BYO_PROXY_IDLE_READ_TIMEOUT: timer.default(30_000),
  BYO_TRUST_PROXY: bool.default(false),
  /** Slow clients: all request headers must arrive within this time, the whole request within the next. */
  BYO_HTTP_HEADERS_TIMEOUT: timer.default(15_000),
  BYO_HTTP_REQUEST_TIMEOUT: timer.default(120_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Print the dev project's keys on first start (embedded mode). */
  BYO_SEED_DEV_PROJECT: bool.default(true),
  /** Server processes sharing the port (node:cluster), e.g. one per core. More than 1 needs PostgreSQL. */
  BYO_WORKERS: z.coerce.number().int().min(1).max(256).default(1),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Env {
  webhookScheduleMs: number[];
  /** In-flight delivery caps, defaults applied (0 = no cap). */
  webhookCaps: { perEndpoint: number; perProject: number };
  mode: 'postgres' | 'embedded';
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let schedule: number[];
  try {
    schedule = e.BYO_WEBHOOK_SCHEDULE.split(',').map((s) => parseDuration(s));
  } catch {
    throw new ConfigError('Invalid configuration:\n  BYO_WEBHOOK_SCHEDULE: expected a comma list of durations');
  }
  // A cap must bite before the pool it guards is full, or one project queues every other's calls.
  for (const cap of ['BYO_PROXY_MAX_CONCURRENCY', 'BYO_PROXY_MAX_CONCURRENCY_PER_ORIGIN'] as const)
    if (e[cap] >= e.BYO_UPSTREAM_CONNECTIONS)
      throw new ConfigError(
        `Invalid configuration:\n  ${cap}: must be below BYO_UPSTREAM_CONNECTIONS (${e.BYO_UPSTREAM_CONNECTIONS}), so one project cannot fill a connection pool all projects share`,
      );
  if (e.BYO_WORKERS > 1 && !e.DATABASE_URL)
    throw new ConfigError(
      'Invalid configuration:\n  BYO_WORKERS: more than 1 worker needs PostgreSQL (set DATABASE_URL); the embedded database belongs to one process',
    );
  // Below the slots of one process by default, so one tenant's slow endpoints always leave some free.
  const webhookCaps = {
    perEndpoint: e.BYO_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT ?? Math.max(1, Math.ceil(e.BYO_WEBHOOK_CONCURRENCY / 2)),
    perProject: e.BYO_WEBHOOK_MAX_IN_FLIGHT_PER_PROJECT ?? Math.max(1, Math.ceil((e.BYO_WEBHOOK_CONCURRENCY * 3) / 4)),
  };
  return { ...e, webhookScheduleMs: schedule, webhookCaps, mode: e.DATABASE_URL ? 'postgres' : 'embedded' };
}
