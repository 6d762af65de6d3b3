import { type InsertObject, type Kysely, sql } from 'kysely';
import { randomId } from '../auth/key-format.js';
import type { Database, Mode } from '../db/schema.js';
import { inMs } from './deliveries.js';

/** Whether an endpoint's event filter selects this type. `*` is every key event (not `webhook.test`). */
export function filterMatches(filter: readonly string[], type: string): boolean {
  if (type === 'webhook.test') return false;
  return filter.includes('*') || filter.includes(type);
}

/**
 * Turns outbox events into one pending delivery per matching enabled endpoint, in one
 * transaction: the events are locked with `FOR UPDATE SKIP LOCKED` (instances fan out
 * disjoint batches) and marked `fanned_out_at` in the same commit. Returns how many events it
 * took; a full batch means there may be more.
 */
export async function fanOut(db: Kysely<Database>, opts: { limit: number; firstDelayMs: number }): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const events = await trx
      .selectFrom('events')
      .select(['seq', 'id', 'project_id', 'mode', 'type', 'created_at'])
      .where('fanned_out_at', 'is', null)
      .orderBy('seq')
      .limit(opts.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (events.length === 0) return 0;
    const projectIds = [...new Set(events.map((e) => e.project_id))];
    const endpoints = await trx
      .selectFrom('webhook_endpoints')
      .select(['id', 'project_id', 'mode', 'events', 'created_at'])
      .where('enabled', '=', true)
      .where('project_id', 'in', projectIds)
      .execute();
    const byScope = new Map<string, typeof endpoints>();
    for (const ep of endpoints) {
      const k = `${ep.project_id}\u0000${ep.mode}`;
      const list = byScope.get(k) ?? [];
      list.push(ep);
      byScope.set(k, list);
    }
    const rows: InsertObject<Database, 'webhook_deliveries'>[] = [];
    for (const e of events) {
      for (const ep of byScope.get(`${e.project_id}\u0000${e.mode}`) ?? []) {
        // An endpoint only receives events that happened after it was created.
        if (!filterMatches(ep.events, e.type) || ep.created_at > e.created_at) continue;
        rows.push({
          id: randomId('wd'),
          event_id: e.id,
          endpoint_id: ep.id,
          project_id: e.project_id,
          mode: e.mode as Mode,
          event_type: e.type,
          status: 'pending',
          attempts: 0,
          next_attempt_at: inMs(opts.firstDelayMs),
        });
      }
    }
    for (let i = 0; i < rows.length; i += 500) {
      await trx
        .insertInto('webhook_deliveries')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).doNothing())
        .execute();
    }
    await trx
      .updateTable('events')
      .set({ fanned_out_at: sql`now()` })
      .where(
        'seq',
        'in',
        events.map((e) => e.seq),
      )
      .execute();
    return events.length;
  });
}
