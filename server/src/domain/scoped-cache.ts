import { SyncedCache } from '../cache/synced-cache.js';
import type { Storage } from '../db/database.js';

/**
 * A small cache of one value per project and mode (its price overrides, its limits), loaded
 * from the database on a miss and dropped on every instance when it changes: a write calls
 * `invalidate()`, which NOTIFYs `channel`. Expiry (`ttlMs`), eviction, the stale-load guard and
 * a lost channel are SyncedCache's, as for the provider-key cache and the authenticator.
 */
export class ScopedCache<T> {
  private readonly cache: SyncedCache<T>;

  constructor(
    storage: Storage,
    channel: string,
    private readonly loader: (projectId: string, mode: string) => Promise<T>,
    ttlMs = 60_000,
    max = 100_000,
  ) {
    this.cache = new SyncedCache<T>(storage, { channel, ttlMs, max });
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  /** The cached value, without waiting; undefined on a miss (call `load`). */
  peek(projectId: string, mode: string, now = Date.now()): T | undefined {
    return this.cache.get(`${projectId}|${mode}`, now);
  }

  async get(projectId: string, mode: string): Promise<T> {
    const hit = this.peek(projectId, mode);
    return hit !== undefined ? hit : this.load(projectId, mode);
  }

  load(projectId: string, mode: string): Promise<T> {
    return this.cache.load(`${projectId}|${mode}`, () => this.loader(projectId, mode));
  }

  drop(id: string): void {
    this.cache.drop(id);
  }

  /** Drops the entry here and on every other instance (call after the change committed). */
  invalidate(projectId: string, mode: string): Promise<void> {
    return this.cache.invalidate(`${projectId}|${mode}`);
  }
}
