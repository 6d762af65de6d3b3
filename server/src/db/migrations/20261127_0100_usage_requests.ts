import type { Kysely } from 'kysely';

/**
 * Usage rows become roll-ups: one row holds `requests` calls with the same project, mode,
 * refId, provider, model and status in the same UTC minute; `latency_ms` and the token
 * columns hold their sums. Existing rows are single calls (`requests` = 1).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('usage_records')
    .addColumn('requests', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex('usage_records_ref_idx')
    .on('usage_records')
    .columns(['project_id', 'mode', 'ref_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('usage_records_ref_idx').ifExists().execute();
  await db.schema.alterTable('usage_records').dropColumn('requests').execute();
}
