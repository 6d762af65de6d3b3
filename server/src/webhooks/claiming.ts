import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, Mode } from '../db/schema.js';

/**
 * Claiming deliveries: which due deliveries this process sends next, fairly across projects and
 * endpoints.
 *
 * A delivery row is claimed by setting `locked_until` (a lease) and counting the attempt, in
 * one statement whose candidate scan takes `FOR UPDATE SKIP LOCKED`: two instances never claim
 * the same row. The lease value (truncated to milliseconds, so it round-trips exactly through a
 * JS Date) is the claim token: a result is recorded only while the row still carries it. A crash
 * mid-attempt leaves the lease to expire, and the row is claimed again (at least once).
 *
 * Fairness: a delivery is "in flight" while it is pending under an unexpired lease, whichever
 * instance holds it, so the counts below are shared by every worker and instance. An endpoint
 * may have at most `perEndpoint` deliveries in flight and a project at most `perProject`; among
 * the rest, the least-loaded project and then endpoint go first (round-robin). So endpoints that
 * never answer hold at most their cap of slots for the length of the timeout, and every other
 * project's deliveries are claimed ahead of their backlog. Two instances claiming in the same
 * instant both see the other's claims as not yet made, so a cap can be exceeded briefly, by at
 * most one claim per instance.
 */

/** In-flight caps (0 = no cap). */
export interface ClaimCaps {
  perEndpoint: number;
  perProject: number;
}

export const NO_CAPS: ClaimCaps = { perEndpoint: 0, perProject: 0 };

/** The caps as whole numbers for the SQL (0 = no cap). */
function capsOf(caps: ClaimCaps): { e: number; p: number } {
  return { e: Math.max(0, Math.floor(caps.perEndpoint)), p: Math.max(0, Math.floor(caps.perProject)) };
}

/**
 * How long a claim is held: the attempt's whole timeout twice over plus 10 s, so a claim never
 * expires while its attempt can still be running or being recorded. After a crash this is how
 * long the delivery waits before another instance (or the restarted one) sends it again.
 */
export const leaseMsFor = (timeoutMs: number) => timeoutMs * 2 + 10_000;

export const leaseExpr = (leaseMs: number) => sql<Date>`date_trunc('milliseconds', now() + ${leaseMs} * interval '1 millisecond')`;

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  projectId: string;
  mode: Mode;
  /** Attempts including this one. */
  attempts: number;
  /** The claim token. */
  lockedUntil: Date;
  eventType: string;
  eventCreatedAt: Date;
  eventData: Record<string, unknown>;
  url: string;
  endpointEnabled: boolean;
  /** The endpoint was already failing when this attempt was claimed. */
  endpointFailing: boolean;
  secret: { ciphertext: Buffer; wrappedKey: Buffer; masterKeyId: string };
  previousSecret: { ciphertext: Buffer; wrappedKey: Buffer; masterKeyId: string } | null;
  previousSecretExpiresAt: Date | null;
}

/** A claimed row as the claim and fan-out statements return it (snake case, joined). */
export interface ClaimedRow {
  id: string;
  event_id: string;
  endpoint_id: string;
  project_id: string;
  mode: Mode;
  attempts: number;
  locked_until: Date | null;
  type: string;
  event_created_at: Date;
  data: Record<string, unknown>;
  url: string;
  enabled: boolean;
  failing_since: Date | null;
  secret_ciphertext: Buffer;
  secret_wrapped_key: Buffer;
  secret_master_key_id: string;
  previous_secret_ciphertext: Buffer | null;
  previous_secret_wrapped_key: Buffer | null;
  previous_secret_master_key_id: string | null;
  previous_secret_expires_at: Date | null;
}

export function toClaimed(r: ClaimedRow): ClaimedDelivery {
  return {
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    projectId: r.project_id,
    mode: r.mode,
    attempts: r.attempts,
    lockedUntil: r.locked_until as Date,
    eventType: r.type,
    eventCreatedAt: r.event_created_at,
    eventData: r.data,
    url: r.url,
    endpointEnabled: r.enabled,
    endpointFailing: r.failing_since !== null,
    secret: { ciphertext: r.secret_ciphertext, wrappedKey: r.secret_wrapped_key, masterKeyId: r.secret_master_key_id },
    previousSecret:
      r.previous_secret_ciphertext && r.previous_secret_wrapped_key && r.previous_secret_master_key_id
        ? {
            ciphertext: r.previous_secret_ciphertext,
            wrappedKey: r.previous_secret_wrapped_key,
            masterKeyId: r.previous_secret_master_key_id,
          }
        : null,
    previousSecretExpiresAt: r.previous_secret_expires_at,
  };
}

/** The endpoint's columns a claim returns with each delivery (`w` is webhook_endpoints). */
export const ENDPOINT_CLAIM_COLUMNS = sql.raw(
  'w.url, w.enabled, w.failing_since, w.secret_ciphertext, w.secret_wrapped_key, w.secret_master_key_id, ' +
    'w.previous_secret_ciphertext, w.previous_secret_wrapped_key, w.previous_secret_master_key_id, w.previous_secret_expires_at',
);

/**
 * CTEs `busy_ep(endpoint_id, n)` and `busy_proj(project_id, n)`: deliveries in flight now, on
 * any instance (read through the small partial index webhook_deliveries_in_flight_idx).
 */
export const busyCtes = sql`
  busy as (
    select endpoint_id, project_id, count(*)::int as n from webhook_deliveries
    where status = 'pending' and locked_until is not null and locked_until > now()
    group by endpoint_id, project_id
  ), busy_ep as (
    select endpoint_id, sum(n)::int as n from busy group by endpoint_id
  ), busy_proj as (
    select project_id, sum(n)::int as n from busy group by project_id
  )`;

/**
 * CTEs `ranked`, `fair` and `pick(id)` over a CTE `cand(id, endpoint_id, project_id, ord)`: up
 * to `limit` candidates within the caps, the least-loaded project first, then endpoint, then
 * `ord` (oldest first). Needs busyCtes before it.
 */
export function fairPickCtes(caps: ClaimCaps, limit: number): RawBuilder<unknown> {
  const { e, p } = capsOf(caps);
  return sql`
  ranked as (
    select c.id, c.project_id, c.ord,
           coalesce(be.n, 0) + row_number() over (partition by c.endpoint_id order by c.ord, c.id) as ep_load
    from cand c left join busy_ep be on be.endpoint_id = c.endpoint_id
  ), fair as (
    select r.id, r.ord, r.ep_load,
           coalesce(bp.n, 0) + row_number() over (partition by r.project_id order by r.ep_load, r.ord, r.id) as proj_load
    from ranked r left join busy_proj bp on bp.project_id = r.project_id
    where ${e}::int = 0 or r.ep_load <= ${e}::int
  ), pick as (
    select id from fair
    where ${p}::int = 0 or proj_load <= ${p}::int
    order by proj_load, ep_load, ord, id
    limit ${Math.max(0, limit)}
  )`;
}

/** Conditions that leave out, before any scan limit, deliveries whose endpoint or project is at its cap. */
function underCaps(caps: ClaimCaps) {
  const { e, p } = capsOf(caps);
  return sql`(${e}::int = 0 or not exists (select 1 from busy_ep b where b.endpoint_id = d.endpoint_id and b.n >= ${e}::int))
    and (${p}::int = 0 or not exists (select 1 from busy_proj b where b.project_id = d.project_id and b.n >= ${p}::int))`;
}

export interface DueClaim {
  claimed: ClaimedDelivery[];
  /**
   * Claim again as attempts finish: due deliveries were left (the limit, or a cap reached during
   * this claim), or an endpoint or project is at its cap (its finishing attempts make room).
   */
  more: boolean;
}

/**
 * Claims up to `limit` due deliveries for this process, fairly (see the top of this file).
 * The candidate scan leaves out endpoints and projects already at their cap, so a capped
 * backlog of any size never hides another endpoint's delivery; it looks at most four times
 * `limit` rows past them.
 */
export async function claimDue(db: Kysely<Database>, opts: { limit: number; leaseMs: number; caps: ClaimCaps }): Promise<DueClaim> {
  if (opts.limit <= 0) return { claimed: [], more: false };
  const scan = Math.max(opts.limit * 4, 64);
  const { e, p } = capsOf(opts.caps);
  const result = await sql<ClaimedRow & { candidates: string | number | null; capped: boolean | null }>`
    with ${busyCtes}, cand as (
      select d.id, d.endpoint_id, d.project_id, d.next_attempt_at as ord
      from webhook_deliveries d
      where d.status = 'pending' and d.next_attempt_at <= now()
        and (d.locked_until is null or d.locked_until <= now())
        and ${underCaps(opts.caps)}
      order by d.next_attempt_at
      limit ${scan}
      for update of d skip locked
    ), ${fairPickCtes(opts.caps, opts.limit)}, upd as (
      update webhook_deliveries d
      set locked_until = ${leaseExpr(opts.leaseMs)}, attempts = d.attempts + 1, updated_at = now()
      from pick, events e, webhook_endpoints w
      where d.id = pick.id and e.id = d.event_id and w.id = d.endpoint_id
      returning d.id, d.event_id, d.endpoint_id, d.project_id, d.mode, d.attempts, d.locked_until,
                e.type, e.created_at as event_created_at, e.data, ${ENDPOINT_CLAIM_COLUMNS}
    )
    select (select count(*) from cand) as candidates,
           (${e}::int > 0 and exists (select 1 from busy_ep where n >= ${e}::int))
             or (${p}::int > 0 and exists (select 1 from busy_proj where n >= ${p}::int)) as capped,
           upd.*
    from (select 1) one left join upd on true`.execute(db);
  const rows = result.rows;
  const claimed = rows.filter((r) => r.id !== null).map(toClaimed);
  return { claimed, more: Number(rows[0]?.candidates ?? 0) > claimed.length || rows[0]?.capped === true };
}

/**
 * Claims the given deliveries if they are pending and not claimed (the test command and
 * redelivery: an explicit request, so no caps). Returns them with their event and endpoint.
 */
export async function claimDeliveries(db: Kysely<Database>, opts: { ids: string[]; leaseMs: number }): Promise<ClaimedDelivery[]> {
  if (opts.ids.length === 0) return [];
  const rows = await db
    .updateTable('webhook_deliveries as d')
    .from(['events as e', 'webhook_endpoints as w'])
    .set((eb) => ({
      locked_until: leaseExpr(opts.leaseMs),
      attempts: eb('d.attempts', '+', 1),
      updated_at: sql`now()`,
    }))
    .where('d.id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<=', sql<Date>`now()`)]))
        .where('id', 'in', opts.ids)
        .forUpdate()
        .skipLocked(),
    )
    .whereRef('e.id', '=', 'd.event_id')
    .whereRef('w.id', '=', 'd.endpoint_id')
    .returning([
      'd.id',
      'd.event_id',
      'd.endpoint_id',
      'd.project_id',
      'd.mode',
      'd.attempts',
      'd.locked_until',
      'e.type',
      'e.created_at as event_created_at',
      'e.data',
      'w.url',
      'w.enabled',
      'w.failing_since',
      'w.secret_ciphertext',
      'w.secret_wrapped_key',
      'w.secret_master_key_id',
      'w.previous_secret_ciphertext',
      'w.previous_secret_wrapped_key',
      'w.previous_secret_master_key_id',
      'w.previous_secret_expires_at',
    ])
    .execute();
  return rows.map(toClaimed);
}
