import type { Mode, ProviderName } from '../db/schema.js';
import { type CachedProviderKey, keyCacheId } from '../domain/key-cache.js';
import { loadProviderKey } from '../domain/provider-keys.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { DecryptError } from '../vault/vault.js';

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

  /** Resolves the usable key or throws the BYOError the caller should see. */
  async resolve(ref: KeyRef): Promise<CachedProviderKey & { key: string }> {
    const cache = this.services.keyCache;
    const id = keyCacheId(ref.projectId, ref.mode, ref.provider, ref.refId);
    const found = cache.get(id) ?? (await cache.load(id, () => this.load(ref)));
    if (!found) throw new BYOError('key_not_found', `No ${ref.provider} key is connected for refId "${ref.refId}".`);
    if (found.status === 'revoked')
      throw new BYOError('key_revoked', `The ${ref.provider} key for this refId was revoked; connect a new one.`);
    if (found.status !== 'active' || !found.key)
      throw new BYOError(
        'key_disabled',
        `The ${ref.provider} key for this refId is disabled (the provider rejected it); connect a new one.`,
      );
    return found as CachedProviderKey & { key: string };
  }

  private load(ref: KeyRef): Promise<CachedProviderKey | null> {
    return loadProviderKey(this.services, ref).catch((err: unknown) => {
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
