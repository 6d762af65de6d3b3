import type { Services } from '../services.js';
import { secretContext, WEBHOOK_SECRET_KIND } from '../vault/aad.js';
import type { ClaimedDelivery } from './claiming.js';

const SECRET_CACHE_MAX = 1000;
const SECRET_CACHE_MS = 60_000;

/**
 * Decrypted secrets, briefly: a backlog to one endpoint would otherwise decrypt the same secret
 * for every attempt. Keyed by the sealed blob itself (its random IV), so a rotated secret is a
 * new entry; entries live at most a minute. One per server (`services.webhookSecrets`), so a
 * closed server's secrets go with it. Not a SyncedCache: nothing to invalidate, a changed
 * secret is another blob.
 */
export class WebhookSecretCache {
  private readonly map = new Map<string, { value: string; until: number }>();

  open(services: Pick<Services, 'vault'>, d: ClaimedDelivery, sealed: ClaimedDelivery['secret']): string {
    const key = `${d.endpointId}|${sealed.masterKeyId}|${sealed.ciphertext.toString('base64')}`;
    const now = Date.now();
    const hit = this.map.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = services.vault.open(
      WEBHOOK_SECRET_KIND,
      secretContext({ project_id: d.projectId, mode: d.mode, id: d.endpointId }),
      sealed,
    );
    if (this.map.size >= SECRET_CACHE_MAX) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, { value, until: now + SECRET_CACHE_MS });
    return value;
  }
}

/** The secrets that sign an attempt now: current first, then the previous one during its overlap. */
export function signingSecrets(services: Pick<Services, 'vault' | 'webhookSecrets'>, d: ClaimedDelivery, now = new Date()): string[] {
  const secrets = [services.webhookSecrets.open(services, d, d.secret)];
  if (d.previousSecret && d.previousSecretExpiresAt && d.previousSecretExpiresAt > now) {
    secrets.push(services.webhookSecrets.open(services, d, d.previousSecret));
  }
  return secrets;
}
