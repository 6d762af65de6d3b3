import { sql } from 'kysely';
import { type Actor, audit } from '../domain/audit.js';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import type { Scope } from '../domain/scope.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { deliveryView } from './delivery-view.js';

/** The delivery log: listing an endpoint's deliveries, and queueing one again. */

export async function listDeliveries(
  services: Services,
  scope: Scope,
  q: {
    endpointId?: string | undefined;
    eventType?: string | undefined;
    eventId?: string | undefined;
    status?: 'pending' | 'succeeded' | 'failed' | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  let query = services.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode);
  if (q.endpointId) query = query.where('endpoint_id', '=', q.endpointId);
  if (q.eventType) query = query.where('event_type', '=', q.eventType);
  if (q.eventId) query = query.where('event_id', '=', q.eventId);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where((eb) => eb.or([eb('created_at', '<', c.t), eb.and([eb('created_at', '=', c.t), eb('id', '<', c.id)])]));
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { data: page.map(deliveryView), nextCursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null };
}

/**
 * Queues one delivery again, now, with a fresh retry schedule and the same event id (so the
 * receiver can recognise a duplicate). The endpoint must be enabled.
 */
export async function redeliver(services: Services, scope: Scope, who: Actor, id: string) {
  const row = await services.db.transaction().execute(async (trx) => {
    const d = await trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
      .select(['d.id', 'd.status', 'd.locked_until', 'd.endpoint_id', 'w.enabled', sql<Date>`now()`.as('now')])
      .where('d.id', '=', id)
      .where('d.project_id', '=', scope.project.id)
      .where('d.mode', '=', scope.mode)
      .forUpdate('d')
      .executeTakeFirst();
    if (!d) throw new BYOError('delivery_not_found', `No webhook delivery ${id} in this project (${scope.mode} mode).`);
    if (!d.enabled)
      throw new BYOError('endpoint_disabled', `Endpoint ${d.endpoint_id} is disabled; enable it (PATCH enabled: true) and redeliver.`);
    if (d.status === 'pending' && d.locked_until && d.locked_until > d.now)
      throw new BYOError('delivery_in_progress', 'This delivery is being attempted right now; try again when it has finished.');
    const updated = await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: sql`now()`, locked_until: null, updated_at: sql`now()` })
      .where('id', '=', d.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, who, { projectId: scope.project.id, mode: scope.mode, action: 'webhook_delivery.redelivered', target: d.id });
    return updated;
  });
  services.onEventsCommitted();
  return deliveryView(row);
}
