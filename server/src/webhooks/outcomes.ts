import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Services } from '../services.js';
import type { ClaimedDelivery } from './claiming.js';
import { recordEndpointFailure } from './endpoint-disabling.js';
import { inMs, nextDelayMs } from './retry-schedule.js';
import type { AttemptResult } from './sender.js';

/**
 * Recording an attempt's outcome on its delivery row, only while the row still carries the
 * claim token (`locked_until`): a claim that expired and was taken over is not overwritten.
 */

function lastColumns(r: AttemptResult) {
  return {
    last_status_code: r.statusCode,
    last_error: r.error,
    last_response: r.responseBody,
    last_latency_ms: r.latencyMs,
  };
}

/** Marks the delivery succeeded and ends its endpoint's failing streak (one UPDATE per delivery). */
export async function recordSuccess(db: Kysely<Database>, d: ClaimedDelivery, r: AttemptResult): Promise<void> {
  const updated = await db
    .updateTable('webhook_deliveries')
    .set({
      status: 'succeeded',
      delivered_at: sql`now()`,
      next_attempt_at: null,
      locked_until: null,
      updated_at: sql`now()`,
      ...lastColumns(r),
    })
    .where('id', '=', d.id)
    .where('locked_until', '=', d.lockedUntil)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n || !d.endpointFailing) return;
  await db
    .updateTable('webhook_endpoints')
    .set({ failing_since: null })
    .where('id', '=', d.endpointId)
    .where('failing_since', 'is not', null)
    .execute();
}

/** Marks the attempt done without scheduling another one. */
export async function recordFinal(db: Kysely<Database>, d: ClaimedDelivery, r: AttemptResult): Promise<boolean> {
  const updated = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', next_attempt_at: null, locked_until: null, updated_at: sql`now()`, ...lastColumns(r) })
    .where('id', '=', d.id)
    .where('locked_until', '=', d.lockedUntil)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/**
 * Records a failed attempt and schedules the next one, or ends the delivery. One transaction:
 * when this failure disables the endpoint (410, or failing longer than
 * BYO_WEBHOOK_DISABLE_AFTER), the retry is never visible to a claim.
 */
export async function recordFailure(services: Services, d: ClaimedDelivery, r: AttemptResult, retry: boolean): Promise<void> {
  const gone = r.statusCode === 410;
  const delay = retry && !gone ? nextDelayMs(services.config.webhookScheduleMs, d.attempts, r.retryAfterSeconds) : null;
  await services.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('webhook_deliveries')
      .set({
        status: delay === null ? 'failed' : 'pending',
        next_attempt_at: delay === null ? null : inMs(delay),
        locked_until: null,
        updated_at: sql`now()`,
        ...lastColumns(r),
      })
      .where('id', '=', d.id)
      .where('locked_until', '=', d.lockedUntil)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return;
    await recordEndpointFailure(trx, services.config.BYO_WEBHOOK_DISABLE_AFTER, d.endpointId, gone);
  });
}

/** Gives a claim back untouched (the attempt was interrupted by shutdown, not answered). */
export async function releaseClaim(db: Kysely<Database>, d: ClaimedDelivery): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({ locked_until: null, attempts: eb('attempts', '-', 1), updated_at: sql`now()` }))
    .where('id', '=', d.id)
    .where('locked_until', '=', d.lockedUntil)
    .execute();
}
