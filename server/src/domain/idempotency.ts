import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import { BYOError } from '../errors.js';
import type { Vault } from '../vault/vault.js';

/** Vault kind of a secret inside a stored response (a `whsec_` secret, a connect token). */
export const IDEMPOTENCY_SECRET_KIND = 'idempotency_response';

export interface IdempotencyOptions {
  /**
   * Top-level response fields holding a secret shown once (`secret`, `token`): stored sealed
   * with the vault (never in plaintext), opened again for a replay.
   */
  secretFields: readonly string[];
  vault: Vault;
}

interface SealedField {
  $sealed: 1;
  ciphertext: string;
  wrappedKey: string;
  masterKeyId: string;
}

/**
 * `Idempotency-Key` on secret-key writes (REL-4): the first response is stored for 24 h and
 * replayed for a retry with the same key and body; another body with the same key is a 409.
 * A key belongs to one operation: the same key on another operation is a 409 too.
 */
export async function withIdempotency<T>(
  db: Kysely<Database>,
  scope: { projectId: string; mode: Mode },
  key: string | null,
  operation: string,
  input: unknown,
  run: () => Promise<T>,
  opts?: IdempotencyOptions,
): Promise<T> {
  if (!key) return run();
  if (key.length > 255) throw new BYOError('validation_failed', 'Idempotency-Key must be at most 255 characters.');
  const requestHash = createHash('sha256')
    .update(operation)
    .update(JSON.stringify(input ?? null))
    .digest('hex');
  const since = new Date(Date.now() - 86_400_000);
  const prior = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response', 'created_at'])
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode)
    .where('key', '=', key)
    .executeTakeFirst();
  if (prior && prior.created_at > since) {
    if (prior.request_hash !== requestHash)
      throw new BYOError(
        'idempotency_conflict',
        'This Idempotency-Key was used with a different request. Use a new key for a new request.',
      );
    return opts ? openFields(opts, scope, key, prior.response as Record<string, unknown>) : (prior.response as T);
  }
  const result = await run();
  const stored = opts ? sealFields(opts, scope, key, result as Record<string, unknown>) : result;
  await db
    .insertInto('idempotency_keys')
    .values({ project_id: scope.projectId, mode: scope.mode, key, operation, request_hash: requestHash, response: JSON.stringify(stored) })
    .onConflict((oc) =>
      oc
        .columns(['project_id', 'mode', 'key'])
        .doUpdateSet({ request_hash: requestHash, response: JSON.stringify(stored), created_at: new Date(), operation }),
    )
    .execute();
  return result;
}

const fieldContext = (scope: { projectId: string; mode: Mode }, key: string, field: string) => [scope.projectId, scope.mode, key, field];

function sealFields(opts: IdempotencyOptions, scope: { projectId: string; mode: Mode }, key: string, result: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...result };
  for (const f of opts.secretFields) {
    const v = out[f];
    if (typeof v !== 'string') continue;
    const sealed = opts.vault.seal(IDEMPOTENCY_SECRET_KIND, fieldContext(scope, key, f), v);
    out[f] = {
      $sealed: 1,
      ciphertext: sealed.ciphertext.toString('base64'),
      wrappedKey: sealed.wrappedKey.toString('base64'),
      masterKeyId: sealed.masterKeyId,
    } satisfies SealedField;
  }
  return out;
}

function openFields<T>(
  opts: IdempotencyOptions,
  scope: { projectId: string; mode: Mode },
  key: string,
  stored: Record<string, unknown>,
): T {
  const out: Record<string, unknown> = { ...stored };
  for (const f of opts.secretFields) {
    const v = out[f] as SealedField | undefined;
    if (!v || typeof v !== 'object' || v.$sealed !== 1) continue;
    try {
      out[f] = opts.vault.open(IDEMPOTENCY_SECRET_KIND, fieldContext(scope, key, f), {
        ciphertext: Buffer.from(v.ciphertext, 'base64'),
        wrappedKey: Buffer.from(v.wrappedKey, 'base64'),
        masterKeyId: v.masterKeyId,
      });
    } catch {
      // Its master key has left the keyring since: the response cannot be replayed.
      throw new BYOError('idempotency_conflict', 'The response stored for this Idempotency-Key can no longer be read. Use a new key.');
    }
  }
  return out as T;
}
