import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { type Actor, audit } from '../domain/audit.js';

const SYSTEM: Actor = { actor: 'system' };

/**
 * Counts a failed attempt against its endpoint, inside the transaction that records it: a 410
 * disables the endpoint at once, and so does failing for longer than `disableAfterMs`
 * (BYO_WEBHOOK_DISABLE_AFTER) without a success.
 */
export async function recordEndpointFailure(
  trx: Kysely<Database>,
  disableAfterMs: number,
  endpointId: string,
  gone: boolean,
): Promise<void> {
  if (gone) {
    await disableEndpointIn(trx, endpointId, 'The endpoint answered 410 Gone.', SYSTEM);
    return;
  }
  const ep = await trx
    .updateTable('webhook_endpoints')
    .set({ failing_since: sql`coalesce(failing_since, now())` })
    .where('id', '=', endpointId)
    .where('enabled', '=', true)
    .returning(['failing_since', sql<Date>`now()`.as('now')])
    .executeTakeFirst();
  if (!ep?.failing_since) return;
  const since = ep.failing_since;
  if (ep.now.getTime() - since.getTime() < disableAfterMs) return;
  // A success that raced with the failure that started the streak ends the streak instead.
  const success = await trx
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'succeeded')
    .where('delivered_at', '>', since)
    .limit(1)
    .executeTakeFirst();
  if (success) {
    await trx.updateTable('webhook_endpoints').set({ failing_since: sql`now()` }).where('id', '=', endpointId).execute();
    return;
  }
  await disableEndpointIn(
    trx,
    endpointId,
    `Every delivery failed since ${since.toISOString()} (longer than BYO_WEBHOOK_DISABLE_AFTER).`,
    SYSTEM,
  );
}

/**
 * Disables an endpoint (410, failing too long, or its owner) with an audit entry; its pending
 * deliveries are marked failed (they can be redelivered once it is enabled again).
 */
export async function disableEndpoint(db: Kysely<Database>, endpointId: string, reason: string, who: Actor): Promise<boolean> {
  return db.transaction().execute((trx) => disableEndpointIn(trx, endpointId, reason, who));
}

async function disableEndpointIn(trx: Kysely<Database>, endpointId: string, reason: string, who: Actor): Promise<boolean> {
  const ep = await trx
    .updateTable('webhook_endpoints')
    .set({ enabled: false, disabled_reason: reason, updated_at: sql`now()` })
    .where('id', '=', endpointId)
    .where('enabled', '=', true)
    .returning(['id', 'project_id', 'mode'])
    .executeTakeFirst();
  if (!ep) return false;
  await failPending(trx, endpointId);
  await audit(trx, who, {
    projectId: ep.project_id,
    mode: ep.mode,
    action: 'webhook_endpoint.disabled',
    target: ep.id,
    metadata: { reason },
  });
  return true;
}

/**
 * Pending deliveries of a disabled endpoint become failed. Rows another transaction is
 * recording right now are skipped (no lock waits, no deadlock); a claim of such a row later
 * finds the endpoint disabled and fails it then. In-flight attempts finish on their own.
 */
export async function failPending(db: Kysely<Database>, endpointId: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: 'failed',
      next_attempt_at: null,
      last_error: sql<string>`case when last_error is null then 'endpoint disabled' else last_error || '; endpoint disabled' end`,
      updated_at: sql`now()`,
    })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('endpoint_id', '=', endpointId)
        .where('status', '=', 'pending')
        .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<=', sql<Date>`now()`)]))
        .forUpdate()
        .skipLocked(),
    )
    .execute();
}
