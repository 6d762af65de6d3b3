import type { Storage } from '../db/database.js';
import type { ProviderKeyStatus, ProviderName } from '../db/schema.js';

/** What the proxy needs of a stored key: the plaintext, only in memory, for a short time. */
export interface CachedProviderKey {
  id: string;
  status: ProviderKeyStatus;
  key: string | null;
  baseUrl: string | null;
  /** The key's provider settings (`providerConfig` region, location, ...; never secrets), or null. */
  settings?: Readonly<Record<string, string>> | null;
  keyHint: string | null;
  /**
   * Which stored version of the key this is: its ciphertext (a fresh data key and IV on every
   * connect or replace, unchanged by a master-key rotation); null when no key material is stored.
   * `disableKey` matches on it, so a provider 401 disables exactly the key that was sent.
   */
  version: Buffer | null;
}

export const KEYS_CHANNEL = 'byo_keys';

export function keyCacheId(projectId: string, mode: string, provider: ProviderName, refId: string): string {
  return `${projectId}|${mode}|${provider}|${refId}`;
}

/** One database load of a key, shared by every caller that missed while it ran. */
interface Load {
  promise: Promise<CachedProviderKey | null>;
  /** Cleared when the key is invalidated while the load runs: its result is then not stored. */
  current: boolean;
  /** The cache's epoch when the load started; "invalidate all" starts a new epoch. */
  epoch: number;
}

/**
 * A bounded TTL cache of decrypted provider keys. Any change to a key (replace, revoke,
 * disable) broadcasts its id on every instance, which drops the entry at once.
 *
 * A load that started before an invalidation of its key (here or on another instance) may
 * read the old row and finish after it: its result goes to the callers already waiting for
 * it but is not stored, and callers arriving after the invalidation start a new load. When
 * the invalidation channel comes back after a loss (a new LISTEN connection), every entry
 * and running load is dropped, since invalidations sent meanwhile were missed; while it is
 * down, cached keys keep serving (a database outage does not stop cached proxying).
 */
export class ProviderKeyCache {
  private readonly map = new Map<string, { value: CachedProviderKey; expires: number }>();
  private readonly loads = new Map<string, Load>();
  private epoch = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly storage: Storage,
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  async start(): Promise<void> {
    await this.storage.listen(
      KEYS_CHANNEL,
      (id) => this.drop(id),
      (listening) => {
        if (listening) this.drop('*');
      },
    );
  }

  get(id: string, now = Date.now()): CachedProviderKey | undefined {
    const e = this.map.get(id);
    if (!e || e.expires <= now) {
      if (e) this.map.delete(id);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.value;
  }

  /**
   * Runs `loader` for `id`, once however many callers miss at the same time, and stores its
   * result unless `id` (or every key) was invalidated since it started. Not found (null) is
   * not stored: a first connect invalidates nothing.
   */
  load(id: string, loader: () => Promise<CachedProviderKey | null>): Promise<CachedProviderKey | null> {
    const pending = this.loads.get(id);
    if (pending) return pending.promise;
    const load: Load = { promise: Promise.resolve(null), current: true, epoch: this.epoch };
    load.promise = loader()
      .then((value) => {
        if (value && load.current && load.epoch === this.epoch) this.set(id, value);
        return value;
      })
      .finally(() => {
        if (this.loads.get(id) === load) this.loads.delete(id);
      });
    this.loads.set(id, load);
    return load.promise;
  }

  private set(id: string, value: CachedProviderKey, now = Date.now()): void {
    if (this.max === 0 || this.ttlMs === 0) return;
    if (this.map.size >= this.max && !this.map.has(id)) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(id, { value, expires: now + this.ttlMs });
  }

  /** Drops the entry of `id` (`*`: every entry) here, and keeps loads running now from storing theirs. */
  drop(id: string): void {
    if (id === '*') {
      this.epoch++;
      this.map.clear();
      this.loads.clear();
      return;
    }
    this.map.delete(id);
    const load = this.loads.get(id);
    if (load) {
      load.current = false;
      this.loads.delete(id);
    }
  }

  /** Drops the entry here and on every other instance. */
  async invalidate(id: string): Promise<void> {
    this.drop(id);
    await this.storage.notify(KEYS_CHANNEL, id);
  }

  get size(): number {
    return this.map.size;
  }
}
