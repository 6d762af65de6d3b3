import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  busyCtes,
  type ClaimCaps,
  type ClaimedDelivery,
  type ClaimedRow,
  ENDPOINT_CLAIM_COLUMNS,
  fairPickCtes,
  leaseExpr,
  NO_CAPS,
  toClaimed,
} from './claiming.js';

export interface FanOutResult {
  /** Events taken; a full batch means there may be more. */
  events: number;
  /** New deliveries claimed for this process right away (their first attempt is due now). */
  claimed: ClaimedDelivery[];
  /** New deliveries created (claimed or not). */
  created: number;
}

/**
 * Turns outbox events into one pending delivery per matching enabled endpoint (same project
 * and mode, created before the event, filter containing the type or `*`; `webhook.test` is
 * never fanned out). One statement, so one atomic step and one round trip: the events are
 * locked with `FOR UPDATE SKIP LOCKED` (instances fan out disjoint batches), their deliveries
 * inserted, and the events marked `fanned_out_at`.
 *
 * When the first attempt is due at once, up to `claim` of the new deliveries are inserted
 * already claimed by this process (lease set, attempt counted) and returned with their event
 * and endpoint, saving the separate claim round trip on the commit-to-delivery path. Which ones
 * follows the same in-flight caps and round-robin as every claim (claiming.ts), so a burst of
 * one project's events never takes every free slot.
 */
export async function fanOut(
  db: Kysely<Database>,
  opts: { limit: number; firstDelayMs: number; claim: number; leaseMs: number; caps?: ClaimCaps },
): Promise<FanOutResult> {
  const claim = opts.firstDelayMs <= 0 ? Math.max(0, opts.claim) : 0;
  const result = await sql<ClaimedRow & { events: string | number | null; created: string | number | null }>`
    with ev as (
      select seq, id, project_id, mode, type, created_at, data from events
      where fanned_out_at is null
      order by seq
      limit ${opts.limit}
      for update skip locked
    ), cand as (
      select 'wd_' || translate(gen_random_uuid()::text, '-', '') as id, ev.id as event_id, w.id as endpoint_id,
             ev.project_id, ev.mode, ev.type, ev.seq as ord
      from ev
      join webhook_endpoints w
        on w.project_id = ev.project_id and w.mode = ev.mode and w.enabled and w.created_at <= ev.created_at
       and ev.type <> 'webhook.test'
       and (w.events @> jsonb_build_array(ev.type) or w.events @> '["*"]'::jsonb)
    ), ${busyCtes}, ${fairPickCtes(opts.caps ?? NO_CAPS, claim)}, ins as (
      insert into webhook_deliveries (id, event_id, endpoint_id, project_id, mode, event_type, status, attempts, next_attempt_at, locked_until)
      select cand.id, event_id, endpoint_id, project_id, mode, type, 'pending',
             case when pick.id is not null then 1 else 0 end,
             now() + ${Math.max(0, Math.round(opts.firstDelayMs))} * interval '1 millisecond',
             case when pick.id is not null then ${leaseExpr(opts.leaseMs)} end
      from cand left join pick on pick.id = cand.id
      on conflict (event_id, endpoint_id) do nothing
      returning id, event_id, endpoint_id, project_id, mode, attempts, locked_until
    ), upd as (
      update events set fanned_out_at = now() where seq in (select seq from ev) returning 1
    )
    select (select count(*) from upd) as events, (select count(*) from ins) as created, ins.*, ev.type, ev.created_at as event_created_at, ev.data,
           ${ENDPOINT_CLAIM_COLUMNS}
    from (select 1) one
    left join ins on ins.locked_until is not null
    left join ev on ev.id = ins.event_id
    left join webhook_endpoints w on w.id = ins.endpoint_id`.execute(db);
  const rows = result.rows;
  return {
    events: Number(rows[0]?.events ?? 0),
    created: Number(rows[0]?.created ?? 0),
    claimed: rows.filter((r) => r.id !== null && r.locked_until !== null).map(toClaimed),
  };
}
