import { type Kysely, sql } from 'kysely';

/**
 * The summed columns of usage roll-ups become `bigint`: a roll-up sums the
 * tokens and latency of every call of its key in a minute, and one sum above 2^31 failed its
 * whole insert. One ALTER TABLE, so the table is rewritten once. `requests` stays `integer`:
 * 2^31 calls of one key in one minute is not a real load.
 */
const COLUMNS = ['latency_ms', 'input_tokens', 'output_tokens', 'total_tokens'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table usage_records ${sql.join(
    COLUMNS.map((c) => sql`alter column ${sql.ref(c)} type bigint`),
    sql`, `,
  )}`.execute(db);
}

/** Back to `integer`; sums that no longer fit are capped at its maximum. */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table usage_records ${sql.join(
    COLUMNS.map((c) => sql`alter column ${sql.ref(c)} type integer using least(${sql.ref(c)}, 2147483647)::integer`),
    sql`, `,
  )}`.execute(db);
}
