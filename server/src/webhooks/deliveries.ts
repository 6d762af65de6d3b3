import { type Kysely, sql } from 'kysely';
import type { Database, Mode, WebhookDeliveryRow } from '../db/schema.js';
import { type Actor, audit } from '../domain/audit.js';
import type { Services } from '../services.js';
import type { ClaimedDelivery } from './claiming.js';
import { type AttemptResult, sendWebhook } from './sender.js';

/**
 * The delivery state machine after a claim (claiming.ts), shared by the dispatcher, the test
 * command and redelivery: sending an attempt, recording its outcome (only while the row still
 * carries the claim token), the retry schedule, and disabling failing endpoints.
 */

export const WEBHOOK_SECRET_KIND = 'webhook_secret';
export const secretContext = (r: { project_id: string; mode: string; id: string }) => [r.project_id, r.mode, r.id] as const;

/** Longest wait honoured from a receiver's Retry-After. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** The body every attempt of an event sends: the same bytes each time (receivers dedupe on `id`). */
export function eventBody(e: { id: string; type: string; createdAt: Date; mode: Mode; data: Record<string, unknown> }): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), mode: e.mode, data: e.data });
}

export const inMs = (ms: number) => sql<Date>`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;

/**
 * Decrypted secrets, briefly: a backlog to one endpoint would otherwise decrypt the same secret
 * for every attempt. Keyed by the sealed blob itself (its random IV), so a rotated secret is a
 * new entry; entries live at most a minute.
 */
const secretCache = new Map<string, { value: string; until: number }>();
const SECRET_CACHE_MAX = 1000;
const SECRET_CACHE_MS = 60_000;

function openSecret(s: Pick<Services, 'vault'>, d: ClaimedDelivery, sealed: ClaimedDelivery['secret']): string {
  const key = `${d.endpointId}|${sealed.masterKeyId}|${sealed.ciphertext.toString('base64')}`;
  const now = Date.now();
  const hit = secretCache.get(key);
  if (hit && hit.until > now) return hit.value;
  const value = s.vault.open(WEBHOOK_SECRET_KIND, secretContext({ project_id: d.projectId, mode: d.mode, id: d.endpointId }), sealed);
  if (secretCache.size >= SECRET_CACHE_MAX) secretCache.delete(secretCache.keys().next().value as string);
  secretCache.set(key, { value, until: now + SECRET_CACHE_MS });
  return value;
}

/** The secrets that sign an attempt now: current first, then the previous one during its overlap. */
export function signingSecrets(s: Pick<Services, 'vault'>, d: ClaimedDelivery, now = new Date()): string[] {
  const secrets = [openSecret(s, d, d.secret)];
  if (d.previousSecret && d.previousSecretExpiresAt && d.previousSecretExpiresAt > now) {
    secrets.push(openSecret(s, d, d.previousSecret));
  }
  return secrets;
}

export interface AttemptOptions {
  /** false for the test command: one attempt, no retries. */
  retry: boolean;
  /** Aborts the request (shutdown); the claim is then released without counting the attempt. */
  signal?: AbortSignal | undefined;
  /** Records a success (the dispatcher batches them); by default one UPDATE per delivery. */
  recordSuccess?: ((d: ClaimedDelivery, r: AttemptResult) => Promise<void>) | undefined;
}

/** Sends one claimed delivery and records the outcome. */
export async function attemptDelivery(s: Services, d: ClaimedDelivery, opts: AttemptOptions): Promise<AttemptResult> {
  let result: AttemptResult;
  if (!d.endpointEnabled) {
    result = { ok: false, statusCode: null, latencyMs: 0, responseBody: null, error: 'endpoint disabled', retryAfterSeconds: null };
    await recordFinal(s.db, d, result);
    return result;
  }
  let secrets: string[];
  try {
    secrets = signingSecrets(s, d);
  } catch (err) {
    s.logger.error({ err, deliveryId: d.id, endpointId: d.endpointId }, 'webhook secret could not be decrypted');
    result = {
      ok: false,
      statusCode: null,
      latencyMs: 0,
      responseBody: null,
      error: 'the signing secret could not be decrypted (master key missing?)',
      retryAfterSeconds: null,
    };
    await recordFailure(s, d, result, opts.retry);
    return result;
  }
  result = await sendWebhook({
    url: d.url,
    eventId: d.eventId,
    body: eventBody({ id: d.eventId, type: d.eventType, createdAt: d.eventCreatedAt, mode: d.mode, data: d.eventData }),
    secrets,
    timeoutMs: s.config.BYO_WEBHOOK_TIMEOUT,
    dispatcher: s.agents.guarded,
    signal: opts.signal,
  });
  if (!result.ok && opts.signal?.aborted) {
    await releaseClaim(s.db, d);
    return result;
  }
  if (result.ok) await (opts.recordSuccess ?? ((x, r) => recordSuccess(s.db, x, r)))(d, result);
  else await recordFailure(s, d, result, opts.retry);
  return result;
}

function lastColumns(r: AttemptResult) {
  return {
    last_status_code: r.statusCode,
    last_error: r.error,
    last_response: r.responseBody,
    last_latency_ms: r.latencyMs,
  };
}

async function recordSuccess(db: Kysely<Database>, d: ClaimedDelivery, r: AttemptResult): Promise<void> {
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

/**
 * Records successes in batches: one UPDATE for every success that completed while the previous
 * batch was being written (at volume this is most of the dispatcher's database work).
 */
export class SuccessBatcher {
  private queue: { d: ClaimedDelivery; r: AttemptResult; done: (err?: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 500,
  ) {}

  record = (d: ClaimedDelivery, r: AttemptResult): Promise<void> =>
    new Promise((resolve, reject) => {
      this.queue.push({ d, r, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.write(batch);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err);
      }
    }
    this.running = false;
  }

  private async write(batch: { d: ClaimedDelivery; r: AttemptResult }[]): Promise<void> {
    const col = <T>(f: (x: { d: ClaimedDelivery; r: AttemptResult }) => T) => batch.map(f);
    await sql`
      update webhook_deliveries as d set
        status = 'succeeded', delivered_at = now(), next_attempt_at = null, locked_until = null, updated_at = now(),
        last_status_code = v.code, last_error = null, last_response = v.resp, last_latency_ms = v.lat
      from unnest(
        ${col((x) => x.d.id)}::text[], ${col((x) => x.d.lockedUntil.toISOString())}::timestamptz[],
        ${col((x) => x.r.statusCode)}::int[], ${col((x) => x.r.responseBody)}::text[], ${col((x) => x.r.latencyMs)}::int[]
      ) as v(id, lu, code, resp, lat)
      where d.id = v.id and d.locked_until = v.lu`.execute(this.db);
    const failing = [...new Set(batch.filter((x) => x.d.endpointFailing).map((x) => x.d.endpointId))];
    if (failing.length > 0) {
      await this.db
        .updateTable('webhook_endpoints')
        .set({ failing_since: null })
        .where('id', 'in', failing)
        .where('failing_since', 'is not', null)
        .execute();
    }
  }
}

/** Marks the attempt done without scheduling another one. */
async function recordFinal(db: Kysely<Database>, d: ClaimedDelivery, r: AttemptResult): Promise<boolean> {
  const updated = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', next_attempt_at: null, locked_until: null, updated_at: sql`now()`, ...lastColumns(r) })
    .where('id', '=', d.id)
    .where('locked_until', '=', d.lockedUntil)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** Delay before attempt number `attempts + 1`, with ±20 % jitter; null when the schedule is exhausted. */
export function nextDelayMs(
  schedule: readonly number[],
  attempts: number,
  retryAfterSeconds: number | null,
  random = Math.random,
): number | null {
  const base = schedule[attempts];
  if (base === undefined) return null;
  let delay = base * (0.8 + 0.4 * random());
  if (retryAfterSeconds !== null) delay = Math.max(delay, Math.min(retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS));
  return Math.round(delay);
}

/**
 * Records a failed attempt and schedules the next one, or ends the delivery. One transaction:
 * when this failure disables the endpoint (410, or failing longer than
 * BYO_WEBHOOK_DISABLE_AFTER), the retry is never visible to a claim.
 */
async function recordFailure(s: Services, d: ClaimedDelivery, r: AttemptResult, retry: boolean): Promise<void> {
  const gone = r.statusCode === 410;
  const delay = retry && !gone ? nextDelayMs(s.config.webhookScheduleMs, d.attempts, r.retryAfterSeconds) : null;
  await s.db.transaction().execute(async (trx) => {
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
    if (gone) {
      await disableEndpointIn(trx, d.endpointId, 'The endpoint answered 410 Gone.', SYSTEM);
      return;
    }
    const ep = await trx
      .updateTable('webhook_endpoints')
      .set({ failing_since: sql`coalesce(failing_since, now())` })
      .where('id', '=', d.endpointId)
      .where('enabled', '=', true)
      .returning(['failing_since', sql<Date>`now()`.as('now')])
      .executeTakeFirst();
    if (!ep?.failing_since) return;
    const since = ep.failing_since;
    if (ep.now.getTime() - since.getTime() < s.config.BYO_WEBHOOK_DISABLE_AFTER) return;
    // A success that raced with the failure that started the streak ends the streak instead.
    const success = await trx
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('endpoint_id', '=', d.endpointId)
      .where('status', '=', 'succeeded')
      .where('delivered_at', '>', since)
      .limit(1)
      .executeTakeFirst();
    if (success) {
      await trx.updateTable('webhook_endpoints').set({ failing_since: sql`now()` }).where('id', '=', d.endpointId).execute();
      return;
    }
    await disableEndpointIn(
      trx,
      d.endpointId,
      `Every delivery failed since ${since.toISOString()} (longer than BYO_WEBHOOK_DISABLE_AFTER).`,
      SYSTEM,
    );
  });
}

const SYSTEM: Actor = { actor: 'system' };

/** Gives a claim back untouched (the attempt was interrupted by shutdown, not answered). */
export async function releaseClaim(db: Kysely<Database>, d: ClaimedDelivery): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({ locked_until: null, attempts: eb('attempts', '-', 1), updated_at: sql`now()` }))
    .where('id', '=', d.id)
    .where('locked_until', '=', d.lockedUntil)
    .execute();
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

export function deliveryView(r: WebhookDeliveryRow) {
  return {
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    eventType: r.event_type,
    mode: r.mode,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at ? r.next_attempt_at.toISOString() : null,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    lastResponse: r.last_response,
    lastLatencyMs: r.last_latency_ms,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    deliveredAt: r.delivered_at ? r.delivered_at.toISOString() : null,
  };
}
