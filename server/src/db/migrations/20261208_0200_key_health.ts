import { type Kysely, sql } from 'kysely';

/**
 * Scheduled key health checks (docs/key-health.md). On `provider_keys`:
 *
 * - `next_check_at`: when the key is due for its next check. The scheduler claims due keys with
 *   `FOR UPDATE SKIP LOCKED` and moves this forward in the same statement (a lease while the
 *   probe runs, then the next interval), so each key is checked once per interval across every
 *   worker and instance. Null: not scheduled yet (a new or replaced key, or checks were off);
 *   the scheduler spreads such keys over one interval.
 * - `invalid_checks`: consecutive checks the provider refused the key at; BYO_KEY_DISABLE_AFTER
 *   of them disable it. A valid check or a replace resets it; an unreachable provider leaves it.
 * - `unreachable_checks`: consecutive checks that could not reach the provider (the backoff).
 * - `last_validation_message`: why the last check said what it said (never the key).
 *
 * Two partial indexes, on active keys only: due keys per provider (the claim), and keys not yet
 * scheduled (small: only new keys wait there).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('provider_keys')
    .addColumn('next_check_at', 'timestamptz')
    .addColumn('invalid_checks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unreachable_checks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_validation_message', 'text')
    .execute();
  await db.schema
    .createIndex('provider_keys_due_idx')
    .on('provider_keys')
    .columns(['provider', 'next_check_at'])
    .where(sql.ref('status'), '=', 'active')
    .execute();
  await db.schema
    .createIndex('provider_keys_unscheduled_idx')
    .on('provider_keys')
    .column('id')
    .where(sql<boolean>`status = 'active' and next_check_at is null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('provider_keys_unscheduled_idx').ifExists().execute();
  await db.schema.dropIndex('provider_keys_due_idx').ifExists().execute();
  await db.schema
    .alterTable('provider_keys')
    .dropColumn('next_check_at')
    .dropColumn('invalid_checks')
    .dropColumn('unreachable_checks')
    .dropColumn('last_validation_message')
    .execute();
}
