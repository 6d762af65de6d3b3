import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { BYOError } from '../errors.js';

/**
 * Rate limits for connects: per publishable key and per client IP, and per secret key
 * (a generous per-second cap, so one tenant's bulk connects cannot monopolise the database and
 * the webhook queue). In memory by default; shared through Redis when REDIS_URL is set, so
 * several instances count together.
 */
export class RateLimits {
  private readonly perKey: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  /** Absent when BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY is 0. */
  private readonly perSecretKey: RateLimiterAbstract | undefined;
  private readonly redis: Redis | undefined;
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
  }) {
    const duration = Math.max(1, Math.round(opts.windowMs / 1000));
    const perSk = opts.perSecretKeyPerSecond ?? 0;
    if (opts.redisUrl) {
      this.redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      this.redis.on('error', () => {});
      const redis = this.redis;
      const prefix = opts.prefix ?? 'byo';
      const shared = (name: string, points: number, seconds: number) =>
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:rl:${name}`,
          points,
          duration: seconds,
          insuranceLimiter: new RateLimiterMemory({ points, duration: seconds }),
        });
      this.perKey = shared('pk', opts.perKey, duration);
      this.perIp = shared('ip', opts.perIp, duration);
      this.perSecretKey = perSk > 0 ? shared('sk', perSk, 1) : undefined;
      this.signInFailures = shared('signin', SIGN_IN_FAILURES, SIGN_IN_WINDOW_S);
    } else {
      this.perKey = new RateLimiterMemory({ points: opts.perKey, duration });
      this.perIp = new RateLimiterMemory({ points: opts.perIp, duration });
      this.perSecretKey = perSk > 0 ? new RateLimiterMemory({ points: perSk, duration: 1 }) : undefined;
      this.signInFailures = new RateLimiterMemory({ points: SIGN_IN_FAILURES, duration: SIGN_IN_WINDOW_S });
    }
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

  /** `memory`, or the Redis connection's state (`ready` when limits are shared; else the in-memory fallback counts). */
  get store(): string {
    return this.redis ? this.redis.status : 'memory';
  }

  async close(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}

/** Failed dashboard sign-ins an IP may make per window before it must wait. */
export const SIGN_IN_FAILURES = 10;
const SIGN_IN_WINDOW_S = 15 * 60;

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
