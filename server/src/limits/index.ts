import type { Kysely } from 'kysely';
import type { Storage } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { emitEvent } from '../domain/events.js';
import type { Logger } from '../observability/logger.js';
import type { PriceBook } from '../pricing/overrides.js';
import { PgCounters } from './counters-pg.js';
import { RedisCounters } from './counters-redis.js';
import { Limits } from './engine.js';

/** The limits service: counters in Redis when REDIS_URL is set, else in the database (PostgreSQL or PGlite). */
export function createLimits(opts: {
  db: Kysely<Database>;
  storage: Storage;
  prices: PriceBook;
  logger: Logger;
  redisUrl?: string | undefined;
  redisPrefix: string;
  /** Wakes the webhook dispatcher after an event is written. */
  onEventsCommitted: () => void;
}): Limits {
  const store = opts.redisUrl ? new RedisCounters(opts.redisUrl, opts.redisPrefix) : new PgCounters(opts.db);
  return new Limits({
    db: opts.db,
    storage: opts.storage,
    store,
    prices: opts.prices,
    logger: opts.logger,
    async emit(scope, event) {
      await emitEvent(opts.db, { projectId: scope.projectId, mode: scope.mode, ...event });
      opts.onEventsCommitted();
    },
  });
}
