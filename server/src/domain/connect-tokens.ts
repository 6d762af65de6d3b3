import { randomBytes } from 'node:crypto';
import { base62, hashSecret, randomId } from '../auth/key-format.js';
import type { ProviderName } from '../db/schema.js';
import type { Services } from '../services.js';
import { type Actor, audit } from './audit.js';
import type { Scope } from './provider-keys.js';

/** Short-lived, single-use, bound to a refId: lets a browser with a pk replace a key (KEY-4). */
export async function createConnectToken(
  s: Services,
  scope: Scope,
  who: Actor,
  input: { refId: string; providers?: ProviderName[] | undefined; allowBaseUrl: boolean; expiresInSeconds: number },
) {
  const token = `byo_ct_${base62(randomBytes(32), 43)}`;
  const expiresAt = new Date(Date.now() + input.expiresInSeconds * 1000);
  await s.db
    .insertInto('connect_tokens')
    .values({
      id: randomId('ct', 12),
      project_id: scope.project.id,
      mode: scope.mode,
      token_hash: hashSecret(token),
      ref_id: input.refId,
      providers: JSON.stringify(input.providers ?? null),
      allow_base_url: input.allowBaseUrl,
      expires_at: expiresAt,
    })
    .execute();
  await audit(s.db, who, { projectId: scope.project.id, mode: scope.mode, action: 'connect_token.created', target: input.refId });
  return {
    token,
    refId: input.refId,
    providers: input.providers ?? null,
    allowBaseUrl: input.allowBaseUrl,
    expiresAt: expiresAt.toISOString(),
  };
}
