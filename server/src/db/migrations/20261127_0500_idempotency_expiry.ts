import type { Kysely } from 'kysely';

/**
 * The retention pruner deletes idempotency keys past their 24-hour life, oldest first by
 * `created_at` (docs/decisions/0022-event-retention.md); without this index each batch would
 * scan the whole table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('idempotency_keys_created_idx').ifExists().execute();
}
