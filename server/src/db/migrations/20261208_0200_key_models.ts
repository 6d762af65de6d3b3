import type { Kysely } from 'kysely';

/**
 * What each provider key can use (docs/key-health.md#entitlements): the model ids of the
 * provider's model listing, read by the scheduled checks (the first one right after connect),
 * and when. Null: not listed yet, or the provider's probe is not a listing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('provider_keys').addColumn('models', 'jsonb').addColumn('models_checked_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('provider_keys').dropColumn('models').dropColumn('models_checked_at').execute();
}
