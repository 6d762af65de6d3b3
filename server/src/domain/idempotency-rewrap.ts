import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Vault } from '../vault/vault.js';
import { fieldContext, hashKeyContext, IDEMPOTENCY_HASH_KIND, IDEMPOTENCY_SECRET_KIND, isSealedField } from './idempotency.js';

/**
 * Master-key rotation of stored Idempotency-Key records: a record holds data
 * keys wrapped by a master key (its request-hash key, and each secret shown once in its stored
 * response); they are re-wrapped like the other tables' (domain/master-keys.ts), or the records
 * could not be replayed once the old master key is retired.
 */

/** Every data key of every record, as the id of the master key that wraps it (a `select mk` subquery). */
const dataKeys = sql`
  select hash_master_key_id as mk from idempotency_keys where hash_master_key_id is not null
  union all
  select f.value->>'masterKeyId' as mk from idempotency_keys i
    cross join lateral jsonb_each(case when jsonb_typeof(i.response) = 'object' then i.response else '{}'::jsonb end) f
    where f.value->>'$sealed' = '1'`;

/** Data keys of stored Idempotency-Key records, by master key id. */
export async function idempotencyDataKeys(db: Kysely<Database>): Promise<{ id: string; n: number }[]> {
  const r = await sql<{ id: string; n: string }>`select mk as id, count(*) as n from (${dataKeys}) k group by mk`.execute(db);
  return r.rows.map((row) => ({ id: row.id, n: Number(row.n) }));
}

/** The count of those not wrapped by `active`, as an SQL expression (countPending). */
export const idempotencyPending = (active: string): RawBuilder<string> =>
  sql<string>`(select count(*) from (${dataKeys}) k where mk <> ${active})`;

export interface IdempotencyRewrapResult {
  /** Rows claimed (whether re-wrapped or failed). */
  claimed: number;
  rewrapped: number;
  failed: { table: 'idempotency_keys'; id: string; reason: string }[];
  /** The cursor after the last claimed row, if any. */
  last: string | null;
}

type Cursor = [projectId: string, mode: string, key: string];
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(s: string | null): Cursor | null {
  if (!s) return null;
  try {
    const c: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return Array.isArray(c) && c.length === 3 && c.every((x) => typeof x === 'string') ? (c as Cursor) : null;
  } catch {
    return null;
  }
}

/**
 * Re-wraps the data keys of up to `limit` records (after `after`, in primary-key order) that hold
 * one wrapped by a key in `older`. Rows are claimed `FOR UPDATE SKIP LOCKED`, as the other
 * tables': a request completing its record waits for the batch, and concurrent rotations claim
 * disjoint rows.
 */
export async function rewrapIdempotencyBatch(
  db: Kysely<Database>,
  vault: Vault,
  older: string[],
  after: string | null,
  limit: number,
  failureReason: (err: unknown) => string,
): Promise<IdempotencyRewrapResult> {
  const result: IdempotencyRewrapResult = { claimed: 0, rewrapped: 0, failed: [], last: null };
  const olderList = sql.join(older);
  const from = decodeCursor(after);
  await db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('idempotency_keys')
      .select(['project_id', 'mode', 'key', 'response', 'hash_key_ciphertext', 'hash_key_wrapped', 'hash_master_key_id'])
      .where((eb) =>
        eb.or([
          eb('hash_master_key_id', 'in', older),
          sql<boolean>`exists (select 1 from jsonb_each(case when jsonb_typeof(idempotency_keys.response) = 'object' then idempotency_keys.response else '{}'::jsonb end) f
            where f.value->>'$sealed' = '1' and f.value->>'masterKeyId' in (${olderList}))`,
        ]),
      );
    if (from) q = q.where(sql<boolean>`(project_id, mode, key) > (${from[0]}, ${from[1]}, ${from[2]})`);
    const rows = await q.orderBy('project_id').orderBy('mode').orderBy('key').limit(limit).forUpdate().skipLocked().execute();
    for (const row of rows) {
      const scope = { projectId: row.project_id, mode: row.mode };
      try {
        const set: { hash_key_wrapped?: Buffer; hash_master_key_id?: string; response?: string } = {};
        let n = 0;
        if (row.hash_master_key_id && older.includes(row.hash_master_key_id) && row.hash_key_ciphertext && row.hash_key_wrapped) {
          const sealed = vault.rewrap(IDEMPOTENCY_HASH_KIND, hashKeyContext(scope, row.key), {
            ciphertext: row.hash_key_ciphertext,
            wrappedKey: row.hash_key_wrapped,
            masterKeyId: row.hash_master_key_id,
          });
          set.hash_key_wrapped = sealed.wrappedKey;
          set.hash_master_key_id = sealed.masterKeyId;
          n++;
        }
        const response = row.response;
        if (response && typeof response === 'object' && !Array.isArray(response)) {
          const out: Record<string, unknown> = { ...(response as Record<string, unknown>) };
          let changed = false;
          for (const [field, v] of Object.entries(out)) {
            if (!isSealedField(v) || !older.includes(v.masterKeyId)) continue;
            const sealed = vault.rewrap(IDEMPOTENCY_SECRET_KIND, fieldContext(scope, row.key, field), {
              ciphertext: Buffer.from(v.ciphertext, 'base64'),
              wrappedKey: Buffer.from(v.wrappedKey, 'base64'),
              masterKeyId: v.masterKeyId,
            });
            out[field] = { ...v, wrappedKey: sealed.wrappedKey.toString('base64'), masterKeyId: sealed.masterKeyId };
            n++;
            changed = true;
          }
          if (changed) set.response = JSON.stringify(out);
        }
        if (n > 0)
          await trx
            .updateTable('idempotency_keys')
            .set(set)
            .where('project_id', '=', row.project_id)
            .where('mode', '=', row.mode)
            .where('key', '=', row.key)
            .execute();
        result.rewrapped += n;
      } catch (err) {
        result.failed.push({ table: 'idempotency_keys', id: `${row.project_id}/${row.mode}/${row.key}`, reason: failureReason(err) });
      }
    }
    result.claimed = rows.length;
    const last = rows[rows.length - 1];
    if (last) result.last = encodeCursor([last.project_id, last.mode, last.key]);
  });
  return result;
}
