import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Turns outbox events into one pending delivery per matching enabled endpoint (same project
 * and mode, created before the event, filter containing the type or `*`; `webhook.test` is
 * never fanned out). One statement, so one atomic step and one round trip: the events are
 * locked with `FOR UPDATE SKIP LOCKED` (instances fan out disjoint batches), their deliveries
 * inserted, and the events marked `fanned_out_at`. Returns how many events it took; a full
 * batch means there may be more.
 */
export async function fanOut(db: Kysely<Database>, opts: { limit: number; firstDelayMs: number }): Promise<number> {
  const result = await sql<{ events: string }>`
    with ev as (
      select seq, id, project_id, mode, type, created_at from events
      where fanned_out_at is null
      order by seq
      limit ${opts.limit}
      for update skip locked
    ), ins as (
      insert into webhook_deliveries (id, event_id, endpoint_id, project_id, mode, event_type, status, attempts, next_attempt_at)
      select 'wd_' || translate(gen_random_uuid()::text, '-', ''), ev.id, w.id, ev.project_id, ev.mode, ev.type, 'pending', 0,
             now() + ${Math.max(0, Math.round(opts.firstDelayMs))} * interval '1 millisecond'
      from ev
      join webhook_endpoints w
        on w.project_id = ev.project_id and w.mode = ev.mode and w.enabled and w.created_at <= ev.created_at
       and ev.type <> 'webhook.test'
       and (w.events @> jsonb_build_array(ev.type) or w.events @> '["*"]'::jsonb)
      on conflict (event_id, endpoint_id) do nothing
      returning 1
    ), upd as (
      update events set fanned_out_at = now() where seq in (select seq from ev) returning 1
    )
    select (select count(*) from upd) as events, (select count(*) from ins) as deliveries`.execute(db);
  return Number(result.rows[0]?.events ?? 0);
}
