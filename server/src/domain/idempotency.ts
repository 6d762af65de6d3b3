import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import { BYOError } from '../errors.js';

/**
 * `Idempotency-Key` on secret-key writes (REL-4): the first response is stored for 24 h and
 * replayed for a retry with the same key and body; another body with the same key is a 409.
 */
export async function withIdempotency<T>(
  db: Kysely<Database>,
  scope: { projectId: string; mode: Mode },
  key: string | null,
  operation: string,
  input: unknown,
  run: () => Promise<T>,
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
    return prior.response as T;
  }
  const result = await run();
  await db
    .insertInto('idempotency_keys')
    .values({ project_id: scope.projectId, mode: scope.mode, key, operation, request_hash: requestHash, response: JSON.stringify(result) })
    .onConflict((oc) =>
      oc
        .columns(['project_id', 'mode', 'key'])
        .doUpdateSet({ request_hash: requestHash, response: JSON.stringify(result), created_at: new Date(), operation }),
    )
    .execute();
  return result;
}
