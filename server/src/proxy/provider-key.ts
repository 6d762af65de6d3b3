import { createHash } from 'node:crypto';
import type { Mode, ProviderName } from '../db/schema.js';
import { type CachedProviderKey, keyCacheId } from '../domain/provider-key-cache.js';
import { loadProviderKey } from '../domain/provider-keys.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { keyProofHeaders } from './headers.js';
import { DecryptError } from '../vault/vault.js';

/**
 * An active key with its plaintext, and its proof headers (`x-byo-key-id`, `x-byo-key-hint`), built once per load.
 * `credential`: a signed provider's parsed credential (its signer, its key object), made on the first call that needs it.
 */
export type UsableKey = CachedProviderKey & { key: string; proof: readonly string[]; credential?: unknown };

/** Names one stored version of a key (its id and a digest of its ciphertext): what a minted token is cached under. */
export function credentialId(key: Pick<CachedProviderKey, 'id' | 'version'>): string {
  return key.version ? `${key.id}:${createHash('sha256').update(key.version).digest('base64url').slice(0, 22)}` : key.id;
}

export interface KeyRef {
  projectId: string;
  mode: Mode;
  provider: ProviderName;
  refId: string;
}

/**
 * Finds the decrypted provider key for a proxied call: from `services.keyCache` (no database
 * round trip on a hit), else loaded and decrypted once, however many calls miss at the same
 * time. The cache keeps a load that overlapped an invalidation (revoke, replace, disable on
 * any instance) from storing the stale key (see ProviderKeyCache).
 */
export class ProviderKeyResolver {
  constructor(
    private readonly services: Services,
    private readonly onDecryptFailure: () => void = () => {},
  ) {}

  /**
   * The usable key if the cache holds it, without a promise (the proxy's hot path: an await
   * costs more than the lookup); `undefined` when `load()` must fetch it. Throws the BYOError
   * the caller should see for a revoked or disabled key.
   */
  cached(ref: KeyRef): UsableKey | undefined {
    const found = this.services.keyCache.get(keyCacheId(ref.projectId, ref.mode, ref.provider, ref.refId));
    return found ? usable(found, ref) : undefined;
  }

  /** Loads and decrypts a key `cached()` did not have (once, however many callers miss at the same time). */
  async load(ref: KeyRef): Promise<UsableKey> {
    const id = keyCacheId(ref.projectId, ref.mode, ref.provider, ref.refId);
    return usable(await this.services.keyCache.load(id, () => this.fromDatabase(ref)), ref);
  }

  private fromDatabase(ref: KeyRef): Promise<CachedProviderKey | null> {
    return loadProviderKey(this.services, ref).then(withProof, (err: unknown) => {
      if (err instanceof DecryptError) {
        this.onDecryptFailure();
        this.services.logger.error({ provider: ref.provider, projectId: ref.projectId }, 'a stored provider key failed to decrypt');
        throw new BYOError(
          'internal_error',
          'The stored key could not be opened; connect it again. The request id identifies the failure in the server logs.',
        );
      }
      throw err;
    });
  }
}

/** The cached entry carries its proof headers, so a cache hit costs no string building. */
function withProof(found: CachedProviderKey | null): CachedProviderKey | null {
  if (!found?.key) return found;
  const key: UsableKey = { ...found, key: found.key, proof: keyProofHeaders(found.id, found.keyHint) };
  return key;
}

function usable(found: CachedProviderKey | null, ref: KeyRef): UsableKey {
  if (!found) throw new BYOError('key_not_found', `No ${ref.provider} key is connected for refId "${ref.refId}".`);
  if (found.status === 'revoked')
    throw new BYOError('key_revoked', `The ${ref.provider} key for this refId was revoked; connect a new one.`);
  if (found.status !== 'active' || !found.key)
    throw new BYOError('key_disabled', `The ${ref.provider} key for this refId is disabled (the provider rejected it); connect a new one.`);
  return found as UsableKey;
}
