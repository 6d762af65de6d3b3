import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RotateBatchInput, RotateBatchOutput, SecretsStatus } from '../schemas/secrets.js';
import type { Services } from '../services.js';
import { DecryptError } from '../vault/vault.js';
import { aadFor, PROVIDER_KEY_KIND, secretContext as webhookSecretAad, WEBHOOK_SECRET_KIND } from '../vault/aad.js';
import { type Actor, audit } from './audit.js';
import { idempotencyDataKeys, idempotencyPending, rewrapIdempotencyBatch } from './idempotency-rewrap.js';

/**
 * Master-key (KEK) rotation by re-wrapping data keys. Each sealed row stores the id
 * of the master key that wrapped its data key; rotation re-wraps the data key under the
 * active master key and leaves the data ciphertext alone. Batches claim rows with
 * `FOR UPDATE SKIP LOCKED`, so rotation runs online, next to traffic and to other
 * rotations, and a killed run simply leaves the remaining rows on the old key.
 */

/** Tables in pass order: provider keys, webhook endpoints, Idempotency-Key records. */
type Stage = 'p' | 'w' | 'i';
interface Cursor {
  stage: Stage;
  id: string | null;
}

function parseCursor(after: string | undefined): Cursor {
  if (!after) return { stage: 'p', id: null };
  const m = /^([pwi]):(.*)$/.exec(after);
  if (!m) return { stage: 'p', id: null };
  return { stage: m[1] as Stage, id: m[2] ? m[2] : null };
}
const formatCursor = (c: Cursor) => `${c.stage}:${c.id ?? ''}`;

/** Rows at each master key id, so an operator knows when an old key can leave the keyring. */
export async function masterKeyStatus(services: Services): Promise<SecretsStatus> {
  const { db } = services;
  const ring = services.vault.keyring;
  const activeKeyId = ring.active.id;
  const [pk, wh, prev, idem] = await Promise.all([
    db
      .selectFrom('provider_keys')
      .select(['master_key_id as id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('master_key_id', 'is not', null)
      .groupBy('master_key_id')
      .execute(),
    db
      .selectFrom('webhook_endpoints')
      .select(['secret_master_key_id as id', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('secret_master_key_id')
      .execute(),
    db
      .selectFrom('webhook_endpoints')
      .select(['previous_secret_master_key_id as id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('previous_secret_master_key_id', 'is not', null)
      .groupBy('previous_secret_master_key_id')
      .execute(),
    idempotencyDataKeys(db),
  ]);
  const ids = [...ring.ids()];
  const counts = new Map<string, { providerKeys: number; webhookSecrets: number; idempotencyResponses: number }>();
  const bucket = (id: string) => {
    let c = counts.get(id);
    if (!c) {
      c = { providerKeys: 0, webhookSecrets: 0, idempotencyResponses: 0 };
      counts.set(id, c);
      if (!ids.includes(id)) ids.push(id);
    }
    return c;
  };
  for (const id of ring.ids()) bucket(id);
  for (const r of pk) if (r.id) bucket(r.id).providerKeys += Number(r.n);
  for (const r of [...wh, ...prev]) if (r.id) bucket(r.id).webhookSecrets += Number(r.n);
  for (const r of idem) if (r.id) bucket(r.id).idempotencyResponses += r.n;
  const keys = ids.map((id) => {
    const c = bucket(id);
    return {
      id,
      active: id === activeKeyId,
      inKeyring: ring.get(id) !== undefined,
      providerKeys: c.providerKeys,
      webhookSecrets: c.webhookSecrets,
      idempotencyResponses: c.idempotencyResponses,
      total: c.providerKeys + c.webhookSecrets + c.idempotencyResponses,
    };
  });
  return {
    activeKeyId,
    keyring: ring.ids(),
    keys,
    pending: keys.filter((k) => !k.active).reduce((n, k) => n + k.total, 0),
    retirable: keys.filter((k) => !k.active && k.inKeyring && k.total === 0).map((k) => k.id),
  };
}

async function countPending(db: Kysely<Database>, active: string): Promise<number> {
  const row = await sql<{ n: string }>`
    select
      (select count(*) from provider_keys where master_key_id is not null and master_key_id <> ${active})
    + (select count(*) from webhook_endpoints where secret_master_key_id <> ${active})
    + (select count(*) from webhook_endpoints where previous_secret_master_key_id is not null and previous_secret_master_key_id <> ${active})
    + ${idempotencyPending(active)}
    as n`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

function failureReason(err: unknown): string {
  // Vault errors carry no key material; anything else is reported generically.
  return err instanceof DecryptError ? err.message : 'unexpected error';
}

/**
 * Re-wraps up to `limit` rows that are wrapped by a keyring key other than the active one.
 * Rows wrapped by a key the server does not hold are never claimed (they are counted in
 * `remaining` and shown by the status). Idempotent: a row on the active key is not touched.
 */
export async function rotateBatch(services: Services, who: Actor, input: RotateBatchInput): Promise<RotateBatchOutput> {
  const { db, vault } = services;
  const active = vault.keyring.active.id;
  const older = vault.keyring.ids().filter((id) => id !== active);
  const failed: RotateBatchOutput['failed'] = [];
  let rewrapped = 0;
  let budget = input.limit;
  let cursor = parseCursor(input.after);

  if (older.length > 0 && cursor.stage === 'p') {
    const claimed = await db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('provider_keys')
        .select(['id', 'project_id', 'mode', 'provider', 'ref_id', 'ciphertext', 'wrapped_key', 'master_key_id'])
        .where('master_key_id', 'in', older)
        .where('ciphertext', 'is not', null)
        .where('wrapped_key', 'is not', null);
      if (cursor.id) q = q.where('id', '>', cursor.id);
      const rows = await q.orderBy('id').limit(budget).forUpdate().skipLocked().execute();
      const updates: { id: string; wrappedKey: Buffer; masterKeyId: string }[] = [];
      for (const row of rows) {
        try {
          const sealed = vault.rewrap(PROVIDER_KEY_KIND, aadFor(row), {
            ciphertext: row.ciphertext as Buffer,
            wrappedKey: row.wrapped_key as Buffer,
            masterKeyId: row.master_key_id as string,
          });
          updates.push({ id: row.id, wrappedKey: sealed.wrappedKey, masterKeyId: sealed.masterKeyId });
        } catch (err) {
          failed.push({ table: 'provider_keys', id: row.id, reason: failureReason(err) });
        }
      }
      // One statement for the whole batch: the rows are locked, so nothing changed under us.
      for (let i = 0; i < updates.length; i += 1000) {
        const chunk = updates.slice(i, i + 1000);
        await sql`
          update provider_keys as p
          set wrapped_key = v.wrapped_key, master_key_id = v.master_key_id
          from (values ${sql.join(chunk.map((u) => sql`(${u.id}::text, ${u.wrappedKey}::bytea, ${u.masterKeyId}::text)`))})
            as v(id, wrapped_key, master_key_id)
          where p.id = v.id`.execute(trx);
      }
      rewrapped += updates.length;
      return rows;
    });
    const last = claimed[claimed.length - 1];
    if (claimed.length < budget) cursor = { stage: 'w', id: null };
    else if (last) cursor = { stage: 'p', id: last.id };
    budget -= claimed.length;
  } else if (older.length === 0) {
    cursor = { stage: 'w', id: null };
  }

  let done = older.length === 0;
  if (!done && budget > 0 && cursor.stage === 'w') {
    const claimed = await db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('webhook_endpoints')
        .select([
          'id',
          'project_id',
          'mode',
          'secret_ciphertext',
          'secret_wrapped_key',
          'secret_master_key_id',
          'previous_secret_ciphertext',
          'previous_secret_wrapped_key',
          'previous_secret_master_key_id',
        ])
        .where((eb) => eb.or([eb('secret_master_key_id', 'in', older), eb('previous_secret_master_key_id', 'in', older)]));
      if (cursor.id) q = q.where('id', '>', cursor.id);
      const rows = await q.orderBy('id').limit(budget).forUpdate().skipLocked().execute();
      for (const row of rows) {
        const context = webhookSecretAad(row);
        try {
          const set: Record<string, Buffer | string> = {};
          if (older.includes(row.secret_master_key_id)) {
            const sealed = vault.rewrap(WEBHOOK_SECRET_KIND, context, {
              ciphertext: row.secret_ciphertext,
              wrappedKey: row.secret_wrapped_key,
              masterKeyId: row.secret_master_key_id,
            });
            set.secret_wrapped_key = sealed.wrappedKey;
            set.secret_master_key_id = sealed.masterKeyId;
          }
          if (
            row.previous_secret_master_key_id &&
            older.includes(row.previous_secret_master_key_id) &&
            row.previous_secret_ciphertext &&
            row.previous_secret_wrapped_key
          ) {
            const sealed = vault.rewrap(WEBHOOK_SECRET_KIND, context, {
              ciphertext: row.previous_secret_ciphertext,
              wrappedKey: row.previous_secret_wrapped_key,
              masterKeyId: row.previous_secret_master_key_id,
            });
            set.previous_secret_wrapped_key = sealed.wrappedKey;
            set.previous_secret_master_key_id = sealed.masterKeyId;
          }
          await trx.updateTable('webhook_endpoints').set(set).where('id', '=', row.id).execute();
          rewrapped += set.previous_secret_wrapped_key && set.secret_wrapped_key ? 2 : 1;
        } catch (err) {
          failed.push({ table: 'webhook_endpoints', id: row.id, reason: failureReason(err) });
        }
      }
      return rows;
    });
    const last = claimed[claimed.length - 1];
    if (claimed.length < budget) cursor = { stage: 'i', id: null };
    else if (last) cursor = { stage: 'w', id: last.id };
    budget -= claimed.length;
  }

  if (!done && budget > 0 && cursor.stage === 'i') {
    const batch = await rewrapIdempotencyBatch(db, vault, older, cursor.id, budget, failureReason);
    rewrapped += batch.rewrapped;
    failed.push(...batch.failed);
    if (batch.claimed < budget) done = true;
    else cursor = { stage: 'i', id: batch.last };
  }

  const remaining = await countPending(db, active);
  if (rewrapped > 0 || failed.length > 0) {
    await audit(db, who, {
      projectId: null,
      mode: null,
      action: 'secrets.rewrapped',
      target: active,
      metadata: { rewrapped, failed: failed.map((f) => ({ table: f.table, id: f.id })), remaining },
    });
  }
  return { activeKeyId: active, rewrapped, failed, remaining, next: done ? null : formatCursor(cursor) };
}
