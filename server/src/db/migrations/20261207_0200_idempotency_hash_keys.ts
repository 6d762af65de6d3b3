import type { Kysely } from 'kysely';

/**
 * The request hash of an Idempotency-Key record is keyed with a random key of its own, sealed
 * by the vault, instead of a key derived from the master key: master-key
 * rotation can then re-wrap it like any data key. Rows written before have no hash key; their
 * hash stays derived from the master key they were written under, and they expire within 24 hours.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('idempotency_keys')
    .addColumn('hash_key_ciphertext', 'bytea')
    .addColumn('hash_key_wrapped', 'bytea')
    .addColumn('hash_master_key_id', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('idempotency_keys')
    .dropColumn('hash_key_ciphertext')
    .dropColumn('hash_key_wrapped')
    .dropColumn('hash_master_key_id')
    .execute();
}
