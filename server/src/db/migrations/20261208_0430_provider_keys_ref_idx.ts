import type { Kysely } from 'kysely';

/**
 * One customer's keys (`GET /v1/keys?refId=`, the dashboard's customer page) without a provider:
 * the unique index leads with the provider, so this lookup scanned every key of the project
 * (about 50 ms with 120,000 keys in bench/dashboard.mjs). This index answers it directly.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('provider_keys_ref_idx').on('provider_keys').columns(['project_id', 'mode', 'ref_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('provider_keys_ref_idx').ifExists().execute();
}
