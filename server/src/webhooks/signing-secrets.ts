import type { Services } from '../services.js';
import { secretContext, WEBHOOK_SECRET_KIND } from '../vault/aad.js';
import type { ClaimedDelivery } from './claiming.js';

/**
 * Decrypted secrets, briefly: a backlog to one endpoint would otherwise decrypt the same secret
 * for every attempt. Keyed by the sealed blob itself (its random IV), so a rotated secret is a
 * new entry; entries live at most a minute.
 */
const secretCache = new Map<string, { value: string; until: number }>();
const SECRET_CACHE_MAX = 1000;
const SECRET_CACHE_MS = 60_000;

function openSecret(s: Pick<Services, 'vault'>, d: ClaimedDelivery, sealed: ClaimedDelivery['secret']): string {
  const key = `${d.endpointId}|${sealed.masterKeyId}|${sealed.ciphertext.toString('base64')}`;
  const now = Date.now();
  const hit = secretCache.get(key);
  if (hit && hit.until > now) return hit.value;
  const value = s.vault.open(WEBHOOK_SECRET_KIND, secretContext({ project_id: d.projectId, mode: d.mode, id: d.endpointId }), sealed);
  if (secretCache.size >= SECRET_CACHE_MAX) secretCache.delete(secretCache.keys().next().value as string);
  secretCache.set(key, { value, until: now + SECRET_CACHE_MS });
  return value;
}

/** The secrets that sign an attempt now: current first, then the previous one during its overlap. */
export function signingSecrets(s: Pick<Services, 'vault'>, d: ClaimedDelivery, now = new Date()): string[] {
  const secrets = [openSecret(s, d, d.secret)];
  if (d.previousSecret && d.previousSecretExpiresAt && d.previousSecretExpiresAt > now) {
    secrets.push(openSecret(s, d, d.previousSecret));
  }
  return secrets;
}
