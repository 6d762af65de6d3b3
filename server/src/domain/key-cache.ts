import type { Storage } from '../db/database.js';
import type { ProviderKeyStatus, ProviderName } from '../db/schema.js';

/** What the proxy needs of a stored key: the plaintext, only in memory, for a short time. */
export interface CachedProviderKey {
  id: string;
  status: ProviderKeyStatus;
  key: string | null;
  baseUrl: string | null;
  keyHint: string | null;
}

export const KEYS_CHANNEL = 'byo_keys';

export function keyCacheId(projectId: string, mode: string, provider: ProviderName, refId: string): string {
  return `${projectId}|${mode}|${provider}|${refId}`;
}

/**
 * A bounded TTL cache of decrypted provider keys. Any change to a key (replace, revoke,
 * disable) broadcasts its id on every instance, which drops the entry at once.
 */
export class ProviderKeyCache {
  private readonly map = new Map<string, { value: CachedProviderKey; expires: number }>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly storage: Storage,
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  async start(): Promise<void> {
    await this.storage.listen(KEYS_CHANNEL, (id) => this.drop(id));
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

  set(id: string, value: CachedProviderKey, now = Date.now()): void {
    if (this.max === 0 || this.ttlMs === 0) return;
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(id, { value, expires: now + this.ttlMs });
  }

  drop(id: string): void {
    if (id === '*') this.map.clear();
    else this.map.delete(id);
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
