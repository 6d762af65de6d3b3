import { type Kysely, sql } from 'kysely';

/**
 * Deliveries in flight (pending under a lease): every claim counts them per endpoint and per
 * project to enforce the fairness caps (webhooks/claiming.ts). The partial index holds only
 * claimed rows, a few hundred at most, so the count stays cheap however long the backlog.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_in_flight_idx')
    .on('webhook_deliveries')
    .columns(['locked_until', 'endpoint_id', 'project_id'])
    .where(sql.ref('status'), '=', 'pending')
    .where(sql.ref('locked_until'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_in_flight_idx').ifExists().execute();
}
