import { type Kysely, sql } from 'kysely';
import type { Database, Mode, ProviderName } from '../db/schema.js';

/** A key claimed for a check: what the probe needs, and the version the outcome must still match. */
export interface ClaimedKey {
  id: string;
  project_id: string;
  mode: Mode;
  provider: ProviderName;
  ref_id: string;
  key_hint: string | null;
  base_url: string | null;
  provider_config: Record<string, string> | null;
  models: string[] | null;
  ciphertext: Buffer;
  wrapped_key: Buffer;
  master_key_id: string;
  invalid_checks: number;
  unreachable_checks: number;
}

/** Keys placed per statement when checks start or new keys arrive. */
const SCHEDULE_BATCH = 1000;

/** A key connected or replaced this recently, never listed, is checked at once (its entitlements follow the connect). */
const JUST_CONNECTED_MS = 10 * 60_000;

/**
 * Places active keys that were never scheduled. A key just connected or replaced (within
 * JUST_CONNECTED_MS, or the interval if shorter) whose models were never listed is due now: the
 * connect has answered, and its entitlements follow within a poll. Any other (present when
 * checks were turned on, or connected while they were off) gets its first check at a random
 * moment in the next interval, so 100,000 keys turned on at once are spread over the interval
 * instead of probed together. Returns how many it placed.
 */
export async function scheduleNew(db: Kysely<Database>, now: Date, intervalMs: number): Promise<number> {
  const recent = new Date(now.getTime() - Math.min(intervalMs, JUST_CONNECTED_MS));
  // The batch is picked once in a CTE and joined: as `where id in (select ... limit ... for
  // update skip locked)`, PostgreSQL re-ran the locking subquery for every row it updated (one
  // statement ran for over 30 minutes on 100,000 keys).
  const result = await sql`
    with batch as (
      select id from provider_keys where status = 'active' and next_check_at is null
      limit ${SCHEDULE_BATCH} for update skip locked
    )
    update provider_keys set next_check_at = case
      when models_checked_at is null and updated_at > ${recent}::timestamptz then ${now}::timestamptz
      else ${now}::timestamptz + (random() * ${intervalMs}::float8) * interval '1 millisecond' end
    from batch where provider_keys.id = batch.id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Claims due keys, at most `limit` of each provider, and leases them until `leaseUntil` in the
 * same statement: `FOR UPDATE SKIP LOCKED` makes concurrent claims (other workers, other
 * instances) take disjoint keys without waiting, and the moved `next_check_at` keeps them from
 * claiming the key again until this check has written its outcome (or its lease ran out).
 * Only keys with key material: a disabled or revoked key is never checked.
 */
export async function claimDue(
  db: Kysely<Database>,
  now: Date,
  leaseUntil: Date,
  limits: readonly (readonly [ProviderName, number])[],
): Promise<ClaimedKey[]> {
  if (limits.length === 0) return [];
  const wanted = sql.join(limits.map(([provider, n]) => sql`(${provider}::text, ${n}::int)`));
  const { rows } = await sql<ClaimedKey>`
    with due as (
      select k.id from (values ${wanted}) as p (provider, n)
      cross join lateral (
        select id from provider_keys
        where provider = p.provider and status = 'active' and next_check_at <= ${now}::timestamptz
          and ciphertext is not null and wrapped_key is not null and master_key_id is not null
        order by next_check_at
        limit p.n
        for update skip locked
      ) k
    )
    update provider_keys set next_check_at = ${leaseUntil}::timestamptz
    from due where provider_keys.id = due.id
    returning provider_keys.id, provider_keys.project_id, provider_keys.mode, provider_keys.provider, provider_keys.ref_id,
      provider_keys.key_hint, provider_keys.base_url, provider_keys.provider_config, provider_keys.models, provider_keys.ciphertext, provider_keys.wrapped_key,
      provider_keys.master_key_id, provider_keys.invalid_checks, provider_keys.unreachable_checks`.execute(db);
  return rows;
}
