import { type Kysely, sql } from 'kysely';

/**
 * The customers read model: `GET /v1/customers` pages through a project's
 * refIds in byte order, optionally by prefix. This index serves both (a prefix is a range in
 * the "C" collation, whatever the database's default collation), so a page costs the same at
 * 100,000 customers as at 10. Usage per customer is read through usage_records_ref_idx.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index provider_keys_customer_idx on provider_keys (project_id, mode, (ref_id collate "C"))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists provider_keys_customer_idx`.execute(db);
}
