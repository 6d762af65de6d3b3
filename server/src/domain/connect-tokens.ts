import { randomBytes } from 'node:crypto';
import { base62, hashSecret, randomId } from '../auth/api-key-format.js';
import type { Kysely } from 'kysely';
import type { Database, ProviderName } from '../db/schema.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { type Actor, audit } from './audit.js';
import type { Scope } from './scope.js';

/** Short-lived, single-use, bound to a refId: lets a browser with a pk replace a key. */
export async function createConnectToken(
  services: Services,
  scope: Scope,
  who: Actor,
  input: { refId: string; providers?: ProviderName[] | undefined; allowBaseUrl: boolean; expiresInSeconds: number },
) {
  const token = `byo_ct_${base62(randomBytes(32), 43)}`;
  const expiresAt = new Date(Date.now() + input.expiresInSeconds * 1000);
  await services.db
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
  await audit(services.db, who, { projectId: scope.project.id, mode: scope.mode, action: 'connect_token.created', target: input.refId });
  return {
    token,
    refId: input.refId,
    providers: input.providers ?? null,
    allowBaseUrl: input.allowBaseUrl,
    expiresAt: expiresAt.toISOString(),
  };
}

/** Uses up a connect token for this connect: it must be unused, unexpired, and issued for this refId and provider. */
export async function consumeConnectToken(
  db: Kysely<Database>,
  scope: Scope,
  token: string,
  req: { refId: string; provider: ProviderName },
): Promise<{ allowBaseUrl: boolean }> {
  const now = new Date();
  const row = await db
    .updateTable('connect_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', hashSecret(token))
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['ref_id', 'providers', 'allow_base_url'])
    .executeTakeFirst();
  if (!row)
    throw new BYOError('connect_token_invalid', 'The connect token is unknown, expired or already used. Ask your backend for a new one.');
  if (row.ref_id !== req.refId) throw new BYOError('connect_token_mismatch', 'The connect token was issued for another refId.');
  if (row.providers && !row.providers.includes(req.provider))
    throw new BYOError('connect_token_mismatch', `The connect token does not allow provider ${req.provider}.`);
  return { allowBaseUrl: row.allow_base_url };
}
