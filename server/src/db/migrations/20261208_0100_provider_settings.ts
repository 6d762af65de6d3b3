import { type Kysely, sql } from 'kysely';

/**
 * A key's provider settings (`providerConfig` fields that are not a base URL: Bedrock's region
 * and access key id, Vertex's location and project). Never secrets: the secret half of every
 * credential stays in the sealed `ciphertext`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('provider_keys').addColumn('provider_config', sql`jsonb`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('provider_keys').dropColumn('provider_config').execute();
}
