import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import { Counter } from 'prom-client';
import type { App } from '../app.js';
import { MAX_TIMER_MS } from '../config.js';
import type { Database } from '../db/schema.js';
import { IDEMPOTENCY_TTL_MS } from '../domain/idempotency.js';
import { metricsFor } from '../observability/metrics.js';
import type { Services } from '../services.js';

/**
 * Retention of the webhook history (docs/decisions/0022-event-retention.md). The outbox
 * (`events`) and the delivery log (`webhook_deliveries`) would otherwise grow forever; every
 * BYO_EVENT_RETENTION_INTERVAL this deletes what is finished or abandoned and older than
 * BYO_EVENT_RETENTION_DAYS:
 *
 * - a delivery that succeeded or failed for good, last changed before the cutoff (a
 *   redelivery counts as a change, so a redelivered row lives on);
 * - a `pending` delivery nobody will send: no next attempt scheduled (`next_attempt_at` null,
 *   which only a test send interrupted by a crash leaves behind), no lease held, last changed
 *   before the cutoff;
 * - an event older than the cutoff that was fanned out and has no delivery left (all of them
 *   pruned above, or it matched no endpoint);
 * - an event older than the cutoff that was never fanned out (webhooks off on every instance):
 *   not delivered within the retention period, it is abandoned. It has no delivery (fan-out
 *   creates them in the statement that marks it), and the statement checks that too.
 *
 * Never a delivery scheduled for an attempt or being attempted, nor an event any delivery could
 * still send. A fan-out racing the pruner for an old event is safe: both lock the event row with
 * `SKIP LOCKED`, and the pruner re-checks `fanned_out_at is null` on the row it locks, so the
 * event is either fanned out (and then kept while its deliveries are) or deleted, never both.
 * The audit log, usage roll-ups, projects and keys are not touched.
 *
 * The same runs also delete idempotency keys past their life (IDEMPOTENCY_TTL_MS, 24 h: a
 * retry after that runs the operation anew anyway), whatever the retention period; a claim
 * still running is never that old (its lease is 60 s).
 *
 * Each statement deletes at most `batchSize` rows (`FOR UPDATE SKIP LOCKED`: rows another
 * transaction is writing are left for the next run, nothing waits on a lock), and the loop
 * pauses between batches so the proxy and the dispatcher keep the database (on PGlite, the
 * single connection) to themselves most of the time.
 *
 * On PostgreSQL one instance at a time prunes a schema: each batch statement first tries
 * `pg_try_advisory_xact_lock` (never waiting) and deletes nothing without it. The lock belongs
 * to that statement's own transaction, so PostgreSQL releases it when the statement ends,
 * whatever happens to it; there is no unlock that could fail and leave a pooled connection
 * holding the lock (which would make every instance skip pruning from then on). An instance
 * that does not get the lock stops its run: another one is pruning. PGlite is a single instance
 * and prunes without the lock.
 */

export const RETENTION_BATCH = 1000;
/** Pause between two batches. */
const BATCH_PAUSE_MS = 20;
/** First advisory-lock key ('BYOR'); the second is the schema's hash, so schemas prune independently. */
export const RETENTION_LOCK_CLASS = 0x42594f52;

export interface PruneOptions {
  /** Finished rows older than this many milliseconds go; null keeps the webhook history (idempotency keys still expire). */
  retentionMs: number | null;
  batchSize?: number | undefined;
  pauseMs?: number | undefined;
  /** Stops between batches (shutdown). */
  signal?: AbortSignal | undefined;
}

export interface PruneResult {
  deliveries: number;
  events: number;
  /** Idempotency keys past their 24-hour life. */
  idempotencyKeys: number;
  /** Statements that deleted (or could have deleted) rows. */
  batches: number;
  /**
   * Another instance was pruning this schema: the run stopped at the first batch that did not
   * get the lock (nothing done if `batches` is 0).
   */
  skipped: boolean;
}

type Fragment = ReturnType<typeof sql>;

/**
 * One delete of at most `limit` rows. `gate` is a boolean expression: the statement must delete
 * nothing when it is false (it is true when this statement holds the pruning lock).
 */
type Step = {
  table: 'deliveries' | 'events' | 'idempotencyKeys';
  statement: (cutoff: Fragment, limit: number, gate: Fragment) => Fragment;
};

const cutoffExpr = (retentionMs: number): Fragment => sql`now() - ${Math.max(0, Math.round(retentionMs))} * interval '1 millisecond'`;

const STEPS: Step[] = [
  {
    table: 'deliveries',
    statement: (cutoff, limit, gate) => sql`delete from webhook_deliveries where id in (
      select id from webhook_deliveries
      where status <> 'pending' and updated_at < ${cutoff} and ${gate}
      order by updated_at
      limit ${limit}
      for update skip locked
    ) returning 1`,
  },
  {
    table: 'deliveries',
    statement: (cutoff, limit, gate) => sql`delete from webhook_deliveries where id in (
      select id from webhook_deliveries
      where status = 'pending' and next_attempt_at is null
        and (locked_until is null or locked_until < now())
        and updated_at < ${cutoff} and ${gate}
      limit ${limit}
      for update skip locked
    ) returning 1`,
  },
  {
    table: 'events',
    statement: (cutoff, limit, gate) => sql`delete from events where seq in (
      select e.seq from events e
      where e.fanned_out_at is not null and e.created_at < ${cutoff} and ${gate}
        and not exists (select 1 from webhook_deliveries d where d.event_id = e.id)
      order by e.created_at
      limit ${limit}
      for update of e skip locked
    ) returning 1`,
  },
  {
    // Never fanned out within the retention period: abandoned. `fanned_out_at is null` is
    // re-checked on the locked row, so an event a dispatcher fanned out meanwhile is kept.
    table: 'events',
    statement: (cutoff, limit, gate) => sql`delete from events where seq in (
      select e.seq from events e
      where e.fanned_out_at is null and e.created_at < ${cutoff} and ${gate}
        and not exists (select 1 from webhook_deliveries d where d.event_id = e.id)
      order by e.created_at
      limit ${limit}
      for update of e skip locked
    ) returning 1`,
  },
  {
    // Past their life whatever the retention period: a retry now runs the operation anew.
    table: 'idempotencyKeys',
    statement: (_cutoff, limit, gate) => sql`delete from idempotency_keys where (project_id, mode, key) in (
      select project_id, mode, key from idempotency_keys
      where created_at < ${cutoffExpr(IDEMPOTENCY_TTL_MS)} and ${gate}
      order by created_at
      limit ${limit}
      for update skip locked
    ) returning 1`,
  },
];

/**
 * Runs one batch as a single statement (one implicit transaction). With `lock`, the statement
 * first tries the transaction-level advisory lock of this schema; `got` is false when another
 * instance holds it, and then the delete is gated off.
 */
async function runBatch(
  db: Kysely<Database>,
  step: Step,
  cutoff: Fragment,
  limit: number,
  lock: boolean,
): Promise<{ got: boolean; n: number }> {
  const take = lock
    ? sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_CLASS}, hashtext(current_schema())) as got`
    : sql`select true as got`;
  const r = await sql<{ got: boolean; n: string | number }>`
    with lock as materialized (${take}),
    gone as (${step.statement(cutoff, limit, sql`(select got from lock)`)})
    select (select got from lock) as got, (select count(*) from gone) as n`.execute(db);
  const row = r.rows[0];
  return { got: row?.got === true, n: Number(row?.n ?? 0) };
}

/**
 * Deletes the finished webhook history older than `retentionMs`, in batches. On PostgreSQL,
 * stops (`skipped`) as soon as another instance holds the pruning lock of this schema.
 */
export async function pruneWebhookHistory(services: Pick<Services, 'db' | 'storage'>, opts: PruneOptions): Promise<PruneResult> {
  const lock = services.storage.kind === 'postgres';
  const limit = Math.max(1, opts.batchSize ?? RETENTION_BATCH);
  const pause = opts.pauseMs ?? BATCH_PAUSE_MS;
  const cutoff = cutoffExpr(opts.retentionMs ?? 0);
  const result: PruneResult = { deliveries: 0, events: 0, idempotencyKeys: 0, batches: 0, skipped: false };
  for (const step of STEPS) {
    if (opts.retentionMs === null && step.table !== 'idempotencyKeys') continue;
    for (;;) {
      if (opts.signal?.aborted) return result;
      const { got, n } = await runBatch(services.db, step, cutoff, limit, lock);
      if (!got) {
        result.skipped = true;
        return result;
      }
      result.batches++;
      result[step.table] += n;
      if (n < limit) break;
      // Let queued queries (the proxy, the dispatcher) run before the next batch.
      await sleep(pause);
    }
  }
  return result;
}

export interface PrunerOptions {
  retentionMs: number | null;
  intervalMs: number;
  /** Delay before the first run. */
  firstDelayMs: number;
  onResult?: ((r: PruneResult) => void) | undefined;
}

/** Runs `pruneWebhookHistory` shortly after start, then every interval with ±10 % jitter. */
export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<PruneResult> | null = null;
  private stopped = false;
  private readonly abort = new AbortController();
  /** Completed runs and rows deleted by this process (tests, logs). */
  readonly stats = { runs: 0, deliveries: 0, events: 0 };

  constructor(
    private readonly services: Pick<Services, 'db' | 'storage' | 'logger'>,
    private readonly opts: PrunerOptions,
  ) {}

  start(): void {
    this.schedule(this.opts.firstDelayMs);
  }

  /** Prunes now (or joins the run in progress). */
  runNow(): Promise<PruneResult> {
    if (this.current) return this.current;
    const run = pruneWebhookHistory(this.services, { retentionMs: this.opts.retentionMs, signal: this.abort.signal })
      .then((r) => {
        this.stats.runs++;
        this.stats.deliveries += r.deliveries;
        this.stats.events += r.events;
        if (r.deliveries + r.events + r.idempotencyKeys > 0)
          this.services.logger.info(
            { deliveries: r.deliveries, events: r.events, idempotencyKeys: r.idempotencyKeys, batches: r.batches },
            'retention: pruned finished webhook history',
          );
        this.opts.onResult?.(r);
        return r;
      })
      .finally(() => {
        this.current = null;
      });
    this.current = run;
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.current?.catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    // Never past the longest timer Node.js can set: a longer one would fire at once.
    this.timer = setTimeout(() => void this.tick(), Math.min(MAX_TIMER_MS, Math.max(0, Math.round(ms))));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    try {
      await this.runNow();
    } catch (err) {
      if (!this.stopped) this.services.logger.warn({ err }, 'retention: pruning failed; trying again at the next run');
    }
    this.schedule(this.opts.intervalMs * (0.9 + 0.2 * Math.random()));
  }
}

/** The pruner running for these services, if any (tests, an admin trigger). */
export function retentionOf(services: Services): RetentionPruner | undefined {
  return services.running.retention;
}

/**
 * The retention pruner as a server feature: runs on every instance (one prunes at a time),
 * whether or not it runs the dispatcher; BYO_EVENT_RETENTION_DAYS=0 keeps the
 * webhook history (idempotency keys still expire after 24 h).
 */
export function retentionFeature(app: App): void {
  const { services } = app;
  const days = services.config.BYO_EVENT_RETENTION_DAYS;
  if (days === 0) services.logger.debug('retention: BYO_EVENT_RETENTION_DAYS=0, webhook events and deliveries are kept forever');
  const interval = services.config.BYO_EVENT_RETENTION_INTERVAL;
  const deleted = new Counter({
    name: 'byo_retention_deleted_rows_total',
    help: 'Finished webhook events and deliveries, and expired idempotency keys, deleted by the retention pruner of this process, by table.',
    labelNames: ['table'] as const,
    registers: [metricsFor(services).registry],
  });
  const pruner = new RetentionPruner(services, {
    retentionMs: days === 0 ? null : days * 86_400_000,
    intervalMs: interval,
    // Soon after start (not during it), spread so that instances started together do not collide.
    firstDelayMs: Math.min(interval, 60_000) * (0.5 + 0.5 * Math.random()),
    onResult: (r) => {
      deleted.inc({ table: 'webhook_deliveries' }, r.deliveries);
      deleted.inc({ table: 'events' }, r.events);
      deleted.inc({ table: 'idempotency_keys' }, r.idempotencyKeys);
    },
  });
  pruner.start();
  services.running.retention = pruner;
  app.onClose(() => pruner.stop());
}
