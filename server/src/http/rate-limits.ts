import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { BYOError } from '../errors.js';

/**
 * Rate limits for publishable-key connects, per key and per client IP (WEB-2). In memory by
 * default; shared through Redis when REDIS_URL is set, so several instances count together.
 */
export class RateLimits {
  private readonly perKey: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly redis: Redis | undefined;

  constructor(opts: { perKey: number; perIp: number; windowMs: number; redisUrl?: string | undefined; prefix?: string }) {
    const duration = Math.max(1, Math.round(opts.windowMs / 1000));
    if (opts.redisUrl) {
      this.redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      this.redis.on('error', () => {});
      const insurance = (points: number) => new RateLimiterMemory({ points, duration });
      const prefix = opts.prefix ?? 'byo';
      this.perKey = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${prefix}:rl:pk`,
        points: opts.perKey,
        duration,
        insuranceLimiter: insurance(opts.perKey),
      });
      this.perIp = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${prefix}:rl:ip`,
        points: opts.perIp,
        duration,
        insuranceLimiter: insurance(opts.perIp),
      });
    } else {
      this.perKey = new RateLimiterMemory({ points: opts.perKey, duration });
      this.perIp = new RateLimiterMemory({ points: opts.perIp, duration });
    }
  }

  async consumeConnect(keyId: string, ip: string): Promise<void> {
    try {
      await Promise.all([this.perKey.consume(keyId), this.perIp.consume(ip)]);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new BYOError('rate_limited', `Too many connect requests. Retry after ${retryAfter} s.`, { retryAfter });
      }
      throw err;
    }
  }

  /** `memory`, or the Redis connection's state (`ready` when limits are shared; else the in-memory fallback counts). */
  get store(): string {
    return this.redis ? this.redis.status : 'memory';
  }

  async close(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}
