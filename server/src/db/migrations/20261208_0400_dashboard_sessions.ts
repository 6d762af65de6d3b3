import { type Kysely, sql } from 'kysely';

/**
 * Operator dashboard sessions. A session is what a secret key or the admin token is
 * exchanged for at sign-in; the browser holds only an opaque token in an HttpOnly cookie and
 * the database holds its hash, so every worker and instance agrees on who is signed in and a
 * sign-out anywhere ends it everywhere. A secret-key session points at its API key, so revoking
 * or expiring the key ends the session too.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dashboard_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'text', (c) => c.references('api_keys.id').onDelete('cascade'))
    .addColumn('admin_hash', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  // The sweep of ended sessions reads by expiry.
  await db.schema.createIndex('dashboard_sessions_expires_idx').on('dashboard_sessions').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dashboard_sessions').ifExists().execute();
}
