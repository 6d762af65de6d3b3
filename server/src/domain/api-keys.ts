import { type Kysely, sql } from 'kysely';
import { apiKeyHint, generateApiKey, hashSecret, type KeyKind, type Mode, randomId } from '../auth/api-key-format.js';
import type { ApiKeyRow, Database } from '../db/schema.js';
import { BYOError } from '../errors.js';

export interface CreatedApiKey {
  row: ApiKeyRow;
  key: string;
}

export function apiKeyView(r: ApiKeyRow) {
  return {
    id: r.id,
    projectId: r.project_id,
    kind: r.kind,
    mode: r.mode,
    keyHint: r.key_hint,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
    revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
    lastUsedAt: r.last_used_at ? r.last_used_at.toISOString() : null,
  };
}

export async function createApiKey(db: Kysely<Database>, opts: { projectId: string; kind: KeyKind; mode: Mode }): Promise<CreatedApiKey> {
  const key = generateApiKey(opts.kind, opts.mode);
  const row = await db
    .insertInto('api_keys')
    .values({
      id: randomId('ak', 12),
      project_id: opts.projectId,
      kind: opts.kind,
      mode: opts.mode,
      key_hash: hashSecret(key),
      key_hint: apiKeyHint(key),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, key };
}

export async function listApiKeys(db: Kysely<Database>, projectId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).orderBy('created_at', 'asc').execute();
}

/**
 * Issues a new key of the same kind and mode; the old one keeps working until
 * `now + expiresInMs` (0 = at once, for a compromised key).
 */
export async function rollApiKey(
  db: Kysely<Database>,
  id: string,
  expiresInMs: number,
  now = new Date(),
): Promise<{ created: CreatedApiKey; old: ApiKeyRow }> {
  return db.transaction().execute(async (trx) => {
    const old = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!old || old.revoked_at) throw new BYOError('api_key_not_found', `No active API key ${id}.`);
    const expiresAt = new Date(now.getTime() + expiresInMs);
    const newExpiry = old.expires_at && old.expires_at < expiresAt ? old.expires_at : expiresAt;
    const updated = await trx
      .updateTable('api_keys')
      .set({ expires_at: newExpiry })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const created = await createApiKey(trx, { projectId: old.project_id, kind: old.kind, mode: old.mode });
    return { created, old: updated };
  });
}

/** Idempotent: revoking again keeps the first revocation time. */
export async function revokeApiKey(db: Kysely<Database>, id: string): Promise<ApiKeyRow> {
  const row = await db
    .updateTable('api_keys')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new BYOError('api_key_not_found', `No API key ${id}.`);
  return row;
}
