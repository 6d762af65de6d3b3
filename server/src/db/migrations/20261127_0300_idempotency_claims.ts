import type { Kysely } from 'kysely';

/**
 * `Idempotency-Key` claims (docs/api.md, Idempotency): the first request with a key inserts its
 * row as `in_progress` before running (one atomic insert, so two simultaneous requests cannot
 * both run), and the row becomes `completed` with the response once the operation succeeded.
 * `claim_id` names the request holding an `in_progress` claim, so only it completes or releases
 * it; `response` is null until then. Rows written before this migration were completed ones.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('idempotency_keys')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('completed'))
    .execute();
  await db.schema.alterTable('idempotency_keys').addColumn('claim_id', 'text').execute();
  await db.schema
    .alterTable('idempotency_keys')
    .alterColumn('response', (c) => c.dropNotNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('status', '<>', 'completed').execute();
  await db.schema
    .alterTable('idempotency_keys')
    .alterColumn('response', (c) => c.setNotNull())
    .execute();
  await db.schema.alterTable('idempotency_keys').dropColumn('claim_id').execute();
  await db.schema.alterTable('idempotency_keys').dropColumn('status').execute();
}
