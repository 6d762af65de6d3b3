import { type Kysely, sql } from 'kysely';

/**
 * Indexes for the retention pruner (docs/decisions/0022-event-retention.md): it deletes
 * finished webhook deliveries by their last change and fanned-out events by age, oldest first,
 * in batches; without these each batch would scan the whole table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_finished_idx')
    .on('webhook_deliveries')
    .column('updated_at')
    .where(sql.ref('status'), '<>', 'pending')
    .execute();
  await db.schema
    .createIndex('events_fanned_out_idx')
    .on('events')
    .column('created_at')
    .where(sql.ref('fanned_out_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_fanned_out_idx').ifExists().execute();
  await db.schema.dropIndex('webhook_deliveries_finished_idx').ifExists().execute();
}
