import type { Kysely } from 'kysely';

/**
 * Usage roll-ups keep the stored provider key that paid for their calls (`provider_keys.id`),
 * so an app can show its customer which of their keys each call used, including across a
 * replace. No foreign key: usage outlives a key's row being replaced, and the recorder writes
 * in batches where one constraint failure would cost a whole batch. Nullable: older rows, and
 * calls BYO answered before a key was chosen, have none.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage_records').addColumn('key_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage_records').dropColumn('key_id').execute();
}
