import type { Mode, ProviderName } from '../db/schema.js';
import { type CachedProviderKey, KEYS_CHANNEL, keyCacheId } from '../domain/key-cache.js';
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
 * time. A load that overlapped an invalidation (revoke, replace, disable on any instance) is
 * used for its own call but not cached, so a stale key cannot outlive the invalidation.
 */
export class ProviderKeyResolver {
  private readonly inflight = new Map<string, Promise<CachedProviderKey | null>>();
  private generation = 0;

  constructor(
    private readonly services: Services,
    private readonly onDecryptFailure: () => void = () => {},
  ) {}

  async start(): Promise<void> {
    await this.services.storage.listen(KEYS_CHANNEL, () => {
      this.generation++;
    });
  }

  /** Resolves the usable key or throws the BYOError the caller should see. */
  async resolve(ref: KeyRef): Promise<CachedProviderKey & { key: string }> {
    const id = keyCacheId(ref.projectId, ref.mode, ref.provider, ref.refId);
    const found = this.services.keyCache.get(id) ?? (await this.load(id, ref));
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

  private load(id: string, ref: KeyRef): Promise<CachedProviderKey | null> {
    let p = this.inflight.get(id);
    if (p) return p;
    const gen = this.generation;
    p = loadProviderKey(this.services, ref)
      .then(
        (value) => {
          // Not found is not cached: a first connect does not invalidate anything.
          if (value && gen === this.generation) this.services.keyCache.set(id, value);
          return value;
        },
        (err: unknown) => {
          if (err instanceof DecryptError) {
            this.onDecryptFailure();
            this.services.logger.error({ provider: ref.provider, projectId: ref.projectId }, 'a stored provider key failed to decrypt');
            throw new BYOError(
              'internal_error',
              'The stored key could not be opened; connect it again. The request id identifies the failure in the server logs.',
            );
          }
          throw err;
        },
      )
      .finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }
}
