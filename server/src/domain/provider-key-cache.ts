import { SyncedCache } from '../cache/synced-cache.js';
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

/**
 * The proxy's cache of decrypted provider keys (the plaintext only in memory, for a short time),
 * by `keyCacheId`. Any change to a key (replace, revoke, disable) invalidates its id on every
 * instance; the rest (expiry, eviction, the stale-load guard, a lost channel) is SyncedCache's.
 */
export class ProviderKeyCache extends SyncedCache<CachedProviderKey> {
  constructor(storage: Storage, ttlMs: number, max: number) {
    super(storage, { channel: KEYS_CHANNEL, ttlMs, max });
  }
}
