import { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { BYOError } from '../errors.js';

/**
 * Rate limits for connects: per publishable key and per client IP, and per secret key
 * (a generous per-second cap, so one tenant's bulk connects cannot monopolise the database and
 * the webhook queue), and failed dashboard sign-ins per IP. Counted where every worker and
 * instance sees the same counters: in Redis when REDIS_URL is set, else in PostgreSQL (table
 * `rate_limits`). Only the embedded PGlite, which runs in one process, counts in memory.
 */
export class RateLimits {
  private readonly perKey: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  /** Absent when BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY is 0. */
  private readonly perSecretKey: RateLimiterAbstract | undefined;
  private readonly redis: Redis | undefined;
  /** The PostgreSQL pool counting the limits (no Redis), and the timer of its prune of ended windows. */
  private readonly pool: pg.Pool | undefined;
  private readonly sweep: NodeJS.Timeout | undefined;
  /** Failed dashboard sign-ins per client IP (a secret key or the admin token guessed online). */
  private readonly signInFailures: RateLimiterAbstract;

  constructor(opts: {
    perKey: number;
    perIp: number;
    windowMs: number;
    /** Connects per second per secret key; 0 = no limit. */
    perSecretKeyPerSecond?: number;
    redisUrl?: string | undefined;
    prefix?: string;
    /** The PostgreSQL pool, migrated (its search_path holds `rate_limits`); unused when redisUrl is set. */
    pgPool?: pg.Pool | undefined;
  }) {
    const duration = Math.max(1, Math.round(opts.windowMs / 1000));
    const perSk = opts.perSecretKeyPerSecond ?? 0;
    let make: (name: string, points: number, seconds: number) => RateLimiterAbstract;
    // A shared store that fails (Redis or PostgreSQL unreachable) falls back to counting in
    // this process's memory until it answers again, rather than refusing or waving every call through.
    const insurance = (points: number, seconds: number) => new RateLimiterMemory({ points, duration: seconds });
    // A key that has used up its window is refused from this process's memory until the window
    // ends, so a flood past the limit costs no round trip to the shared store.
    const blockOnceSpent = (points: number) => ({ inMemoryBlockOnConsumed: points });
    if (opts.redisUrl) {
      this.redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      this.redis.on('error', () => {});
      const redis = this.redis;
      const prefix = opts.prefix ?? 'byo';
      make = (name, points, seconds) =>
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:rl:${name}`,
          points,
          duration: seconds,
          insuranceLimiter: insurance(points, seconds),
          ...blockOnceSpent(points),
        });
    } else if (opts.pgPool) {
      const pool = opts.pgPool;
      // One table for every limit (the key carries the limit's name); a migration creates it, in
      // the schema of the other tables. Each upsert is one atomic statement.
      make = (name, points, seconds) =>
        new RateLimiterPostgres({
          storeClient: pool,
          storeType: 'pool',
          tableName: 'rate_limits',
          tableCreated: true,
          clearExpiredByTimeout: false,
          keyPrefix: name,
          points,
          duration: seconds,
          insuranceLimiter: insurance(points, seconds),
          ...blockOnceSpent(points),
        });
    } else {
      make = (_name, points, seconds) => new RateLimiterMemory({ points, duration: seconds });
    }
    this.perKey = make('pk', opts.perKey, duration);
    this.perIp = make('ip', opts.perIp, duration);
    this.perSecretKey = perSk > 0 ? make('sk', perSk, 1) : undefined;
    this.signInFailures = make('signin', SIGN_IN_FAILURES, SIGN_IN_WINDOW_S);
    if (opts.pgPool && !opts.redisUrl) {
      this.pool = opts.pgPool;
      this.sweep = setInterval(() => void this.pruneExpired().catch(() => {}), SWEEP_INTERVAL_MS);
      this.sweep.unref();
    }
  }

  /**
   * Deletes the PostgreSQL counters whose window ended before `now`. An ended window's row is
   * reset by its key's next consume anyway; this removes the rows of keys and addresses never
   * seen again. Runs every few minutes in each process (a failed run waits for the next one).
   */
  async pruneExpired(now = Date.now()): Promise<void> {
    await this.pool?.query('DELETE FROM rate_limits WHERE expire < $1', [now]);
  }

  /**
   * Before a dashboard sign-in: an IP with SIGN_IN_FAILURES failed attempts in the window gets
   * `429 rate_limited` until the window ends, whatever it presents now. Only failures count, so
   * operators signing in again and again are never locked out by their own successes.
   */
  async checkSignIn(ip: string): Promise<void> {
    const res = await this.signInFailures.get(ip);
    if (res && res.consumedPoints >= SIGN_IN_FAILURES) {
      const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new BYOError('rate_limited', `Too many failed sign-ins from this address. Retry after ${retryAfter} s.`, { retryAfter });
    }
  }

  /** Counts a failed dashboard sign-in of `ip`. */
  async failedSignIn(ip: string): Promise<void> {
    await this.signInFailures.consume(ip).catch((err: unknown) => {
      if (!(err instanceof RateLimiterRes)) throw err;
    });
  }

  /**
   * A publishable-key connect. The IP is checked first and the key's budget is charged only for
   * calls the IP check let through: otherwise one IP hammering at its own limit would spend the
   * whole project's budget and lock every other customer out.
   */
  async consumeConnect(keyId: string, ip: string): Promise<void> {
    await limited(async () => {
      await this.perIp.consume(ip);
      await this.perKey.consume(keyId);
    });
  }

  /** A secret-key connect. */
  async consumeSecretConnect(keyId: string): Promise<void> {
    const limiter = this.perSecretKey;
    if (limiter) await limited(() => limiter.consume(keyId));
  }

  /**
   * `memory` (PGlite), `postgres`, or the Redis connection's state (`ready` when limits are
   * shared; else the in-memory fallback counts).
   */
  get store(): string {
    if (this.redis) return this.redis.status;
    return this.pool ? 'postgres' : 'memory';
  }

  async close(): Promise<void> {
    if (this.redis) this.redis.disconnect();
    if (this.sweep) clearInterval(this.sweep);
  }
}

/** Failed dashboard sign-ins an IP may make per window before it must wait. */
export const SIGN_IN_FAILURES = 10;
const SIGN_IN_WINDOW_S = 15 * 60;
const SWEEP_INTERVAL_MS = 5 * 60_000;

/** Runs a consume; a refusal becomes `429 rate_limited` with Retry-After. */
async function limited(consume: () => Promise<unknown>): Promise<void> {
  try {
    await consume();
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new BYOError('rate_limited', `Too many connect requests. Retry after ${retryAfter} s.`, { retryAfter });
    }
    throw err;
  }
}
