import type { Kysely } from 'kysely';

/**
 * Counters of the connect and sign-in rate limits on PostgreSQL without Redis, so every worker
 * and instance counts together. rate-limiter-flexible's RateLimiterPostgres reads and writes
 * it: its statements insert positionally, so the columns, their types and their order are the
 * ones it would create itself. A key is `<limit>:<id or address>`; `expire` is the end of the
 * key's window in epoch milliseconds. The embedded PGlite (one process) counts in memory and
 * leaves the table empty.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expire', 'bigint')
    .execute();
  // No index on `expire`: the sweep of ended windows runs every few minutes, while an index on
  // a column that every new window rewrites would make each counter update a non-HOT one.
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limits').ifExists().execute();
}
