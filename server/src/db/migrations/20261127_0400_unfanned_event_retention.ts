import { type Kysely, sql } from 'kysely';

/**
 * The retention pruner also deletes events never fanned out once older than the retention
 * period (docs/decisions/0022-event-retention.md: with webhooks off on every instance nothing
 * fans them out). It takes them oldest first by `created_at`; without this index each batch,
 * and every run once nothing is old, would scan all events still waiting for fan-out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('events_unfanned_created_idx')
    .on('events')
    .column('created_at')
    .where(sql.ref('fanned_out_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_unfanned_created_idx').ifExists().execute();
}
