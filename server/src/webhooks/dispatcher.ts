import { setMaxListeners } from 'node:events';
import { EVENTS_CHANNEL } from '../domain/events.js';
import type { Services } from '../services.js';
import { type ClaimCaps, type ClaimedDelivery, claimDue, leaseMsFor } from './claiming.js';
import { attemptDelivery } from './deliveries.js';
import { SuccessBatcher } from './success-batcher.js';
import { fanOut } from './fanout.js';
import type { AttemptResult } from './sender.js';

export interface DispatcherOptions {
  /** Deliveries in flight at once in this process. */
  concurrency: number;
  /** Deliveries in flight at once per endpoint and per project, over every instance (claiming.ts). */
  caps: ClaimCaps;
  /** Events taken per fan-out transaction. */
  fanOutBatch: number;
  /** How long a claim is held: longer than the request timeout, so a slow attempt is never sent twice. */
  leaseMs: number;
  /** How long stop() lets in-flight attempts finish before aborting them. */
  shutdownGraceMs: number;
  /** Called after each attempt this process made (metrics). */
  onAttempt?: ((r: AttemptResult) => void) | undefined;
}

/**
 * The webhook dispatcher: one loop per process that fans outbox events out to deliveries and
 * sends due deliveries, up to `concurrency` at a time. It wakes at once when this process
 * commits events (`wake()`), when another instance does (PostgreSQL LISTEN on the events
 * channel), and otherwise every BYO_WEBHOOK_POLL_INTERVAL (retries come due by polling).
 * Any number of instances may run against one database; see docs/decisions/0002-webhook-queue.md.
 */
export class WebhookDispatcher {
  private readonly opts: DispatcherOptions;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly inflight = new Map<string, Promise<void>>();
  /** Aborted once, at stop, for the attempts still running after the grace period. */
  private readonly shutdown = new AbortController();
  private fanOutRequested = true;
  private lastFanOut = 0;
  private lastClaim = 0;
  private pollTick = false;
  /** The last claim left due deliveries (the slots, or a cap, ran out): claim again as attempts finish. */
  private moreDue = false;
  /** Attempts finished since the last claim. */
  private finishedSinceClaim = 0;
  /** With a backlog, claim again once this many slots are free (not one query per finished attempt). */
  private readonly refillAt: number;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  private errorStreak = 0;
  private readonly successes: SuccessBatcher;
  private readonly notifier: EventsNotifier;
  /** Attempts made by this process, by outcome (for metrics and tests). */
  readonly stats = { attempts: 0, succeeded: 0, failed: 0, released: 0 };

  constructor(
    private readonly services: Services,
    opts: Partial<DispatcherOptions> = {},
  ) {
    const timeout = services.config.BYO_WEBHOOK_TIMEOUT;
    this.opts = {
      concurrency: opts.concurrency ?? services.config.BYO_WEBHOOK_CONCURRENCY,
      caps: opts.caps ?? services.config.webhookCaps,
      fanOutBatch: opts.fanOutBatch ?? 200,
      leaseMs: opts.leaseMs ?? leaseMsFor(timeout),
      shutdownGraceMs: opts.shutdownGraceMs ?? Math.min(timeout, 2_000),
      onAttempt: opts.onAttempt,
    };
    this.successes = new SuccessBatcher(services.db);
    this.notifier = new EventsNotifier(services);
    this.refillAt = Math.max(1, Math.floor(this.opts.concurrency / 4));
    // Every attempt in flight listens on the shutdown signal.
    setMaxListeners(this.opts.concurrency + 16, this.shutdown.signal);
  }

  async start(): Promise<void> {
    if (this.services.storage.kind === 'postgres') {
      await this.services.storage.listen(EVENTS_CHANNEL, () => this.wake());
    }
    this.loop = this.run();
  }

  /** New events exist (committed here or elsewhere): fan out and send now. */
  wake(): void {
    this.fanOutRequested = true;
    this.interruptSleep();
  }

  /** Called right after this process commits events: wake here, and tell the other instances. */
  eventsCommitted(): void {
    this.wake();
    this.notifier.notify();
  }

  private freeSlots(): number {
    return this.opts.concurrency - this.inflight.size;
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.notifier.close();
    this.interruptSleep();
    await this.loop;
    const pending = [...this.inflight.values()];
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(pending),
        new Promise<void>((r) => {
          timer = setTimeout(r, this.opts.shutdownGraceMs);
        }),
      ]);
      clearTimeout(timer);
      // Still running: abort; their claims are released so another instance (or the next start) sends them.
      this.shutdown.abort();
      await Promise.allSettled([...this.inflight.values()]);
    }
  }

  private async run(): Promise<void> {
    const poll = this.services.config.BYO_WEBHOOK_POLL_INTERVAL;
    while (!this.stopped) {
      try {
        const now = Date.now();
        // A full poll-interval sleep just ended (timers may fire a hair early by Date.now()).
        const tick = this.pollTick;
        this.pollTick = false;
        let fannedOut = false;
        if (this.fanOutRequested || tick || now - this.lastFanOut >= poll) {
          this.fanOutRequested = false;
          this.lastFanOut = now;
          const claim = this.stopped ? 0 : this.freeSlots();
          const r = await fanOut(this.services.db, {
            limit: this.opts.fanOutBatch,
            firstDelayMs: this.services.config.webhookScheduleMs[0] ?? 0,
            claim,
            leaseMs: this.opts.leaseMs,
            caps: this.opts.caps,
          });
          for (const d of r.claimed) this.launch(d);
          // Every slot offered was taken, or a cap left new due deliveries unclaimed: claim them as slots free.
          if (r.events > 0 && r.claimed.length >= claim) this.moreDue = true;
          if (r.created > r.claimed.length && (this.services.config.webhookScheduleMs[0] ?? 0) <= 0) this.moreDue = true;
          if (r.events === this.opts.fanOutBatch) this.fanOutRequested = true;
          fannedOut = true;
        }
        // Due retries (and fresh deliveries the fan-out had no slot for). Right after a fan-out
        // that claimed its new deliveries, this waits for the next poll unless work is queued.
        const free = this.freeSlots();
        if (free > 0 && !this.stopped && (!fannedOut || this.moreDue || tick || now - this.lastClaim >= poll)) {
          this.lastClaim = now;
          const { claimed, more } = await claimDue(this.services.db, { limit: free, leaseMs: this.opts.leaseMs, caps: this.opts.caps });
          this.moreDue = more;
          this.finishedSinceClaim = 0;
          for (const d of claimed) this.launch(d);
        }
        this.errorStreak = 0;
      } catch (err) {
        if (this.stopped) break;
        this.errorStreak++;
        if (this.errorStreak === 1 || this.errorStreak % 50 === 0)
          this.services.logger.warn({ err, streak: this.errorStreak }, 'webhook dispatcher: database error; retrying');
        await this.sleep(Math.min(5_000, 100 * 2 ** Math.min(this.errorStreak, 6)));
        continue;
      }
      if (this.stopped || this.fanOutRequested) continue;
      if (this.refillDue()) continue;
      await this.sleep(poll);
    }
  }

  private launch(d: ClaimedDelivery): void {
    const signal = this.shutdown.signal;
    this.stats.attempts++;
    const promise = attemptDelivery(this.services, d, { retry: true, signal, recordSuccess: this.successes.record })
      .then(
        (r) => {
          if (r.ok) this.stats.succeeded++;
          else if (signal.aborted) this.stats.released++;
          else this.stats.failed++;
          if (!signal.aborted) this.opts.onAttempt?.(r);
        },
        (err) => this.services.logger.warn({ err, deliveryId: d.id }, 'webhook delivery: could not record the attempt'),
      )
      .finally(() => {
        this.inflight.delete(d.id);
        this.finishedSinceClaim++;
        if (this.refillDue()) this.interruptSleep();
      });
    this.inflight.set(d.id, promise);
  }

  /**
   * Claim again once enough slots are free and enough attempts finished since the last claim.
   * The second condition matters when a cap, not the slots, stopped the last claim: free slots
   * alone would then claim again at once, and find nothing until capped attempts finish.
   */
  private refillDue(): boolean {
    return this.moreDue && this.freeSlots() >= this.refillAt && this.finishedSinceClaim >= this.refillAt;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = null;
        this.pollTick = true;
        resolve();
      }, ms);
      this.sleeper = { timer, resolve };
    });
  }

  private interruptSleep(): void {
    const s = this.sleeper;
    if (!s) return;
    this.sleeper = null;
    clearTimeout(s.timer);
    s.resolve();
  }
}

/**
 * Tells the other instances that events were committed (PostgreSQL NOTIFY on the events
 * channel). One NOTIFY in flight at a time; commits arriving meanwhile fold into one more.
 * Instances that do not run the dispatcher (BYO_WEBHOOKS=false) use it too, so the ones that do
 * wake at once for their events.
 */
export class EventsNotifier {
  private notifying = false;
  private again = false;
  private closed = false;

  constructor(private readonly services: Pick<Services, 'storage' | 'logger'>) {}

  notify(): void {
    if (this.closed || this.services.storage.kind !== 'postgres') return;
    if (this.notifying) {
      this.again = true;
      return;
    }
    this.notifying = true;
    this.services.storage
      .notify(EVENTS_CHANNEL, '')
      .catch((err) => this.services.logger.debug({ err }, 'webhooks: notify failed'))
      .finally(() => {
        this.notifying = false;
        if (this.again && !this.closed) {
          this.again = false;
          this.notify();
        }
      });
  }

  close(): void {
    this.closed = true;
  }
}
