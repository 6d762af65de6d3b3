import type { ProviderName } from '../db/schema.js';
import { validateWithProvider } from '../providers/validate.js';
import type { Services } from '../services.js';
import { aadFor, PROVIDER_KEY_KIND } from '../vault/aad.js';
import { type ClaimedKey, claimDue, scheduleNew } from './claims.js';
import { type CheckResult, type HealthOutcome, recordOutcome } from './outcomes.js';
import { afterInvalid, afterUnreachable, afterValid, LEASE_MS } from './schedule.js';

export interface KeyHealthOptions {
  /** BYO_KEY_HEALTH_INTERVAL, more than 0. */
  intervalMs: number;
  /** BYO_KEY_DISABLE_AFTER. */
  disableAfter: number;
  /** BYO_KEY_HEALTH_CONCURRENCY: checks in flight per provider in this process. */
  concurrency: number;
  /** How often to look for due keys when none are waiting (default: a 20th of the interval, 50 ms to 5 s). */
  pollMs?: number;
  /** The clock (tests, the benchmark). */
  now?: () => number;
  random?: () => number;
  /** Called after each check whose outcome was written. */
  onCheck?: (provider: ProviderName, outcome: HealthOutcome) => void;
}

/**
 * Checks every active provider key with its provider about once per interval
 * (docs/key-health.md). Every process runs one: keys are claimed in PostgreSQL (claims.ts), so
 * however many workers and instances run, each key is checked once per interval. Per provider,
 * at most `concurrency` checks are in flight in this process, so a provider never sees a burst;
 * when a provider's checks are all busy, the next claim takes none of its keys.
 */
export class KeyHealthScheduler {
  private readonly inFlight = new Map<ProviderName, number>();
  private readonly providers: ProviderName[];
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  /** A check ended while every slot was taken: look again as soon as the running claim is done. */
  private again = false;
  private stopped = true;
  /** Outcomes being written: stop() waits for them (a probe still running is dropped; its lease frees the key). */
  private readonly writing = new Set<Promise<unknown>>();
  /** Checks written, and statements sent, by this scheduler (metrics, the benchmark). */
  readonly stats = { checks: 0, statements: 0, byProvider: new Map<ProviderName, number>(), maxInFlight: new Map<ProviderName, number>() };

  constructor(
    private readonly services: Services,
    private readonly opts: KeyHealthOptions,
  ) {
    this.providers = Object.keys(services.providers) as ProviderName[];
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.pollMs = opts.pollMs ?? Math.min(5000, Math.max(50, Math.round(opts.intervalMs / 20)));
  }

  start(): void {
    this.stopped = false;
    this.wake(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.allSettled([...this.writing]);
  }

  /** Checks in flight in this process. */
  get running(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  private wake(ms: number): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ticking = this.tick()
        .catch((err: unknown) => this.services.logger.warn({ err }, 'key health: could not claim due keys; will retry'))
        .finally(() => {
          this.ticking = null;
          const again = this.again;
          this.again = false;
          this.wake(again ? 0 : this.pollMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** Places new keys, then claims as many due keys as there are free slots, per provider. */
  private async tick(): Promise<void> {
    const now = new Date(this.now());
    this.stats.statements++;
    if ((await scheduleNew(this.services.db, now, this.opts.intervalMs)) > 0) this.again = true;
    const limits: [ProviderName, number][] = [];
    for (const p of this.providers) {
      const free = this.opts.concurrency - (this.inFlight.get(p) ?? 0);
      if (free > 0) limits.push([p, free]);
    }
    if (limits.length === 0 || this.stopped) return;
    this.stats.statements++;
    const claimed = await claimDue(this.services.db, now, new Date(now.getTime() + LEASE_MS), limits);
    for (const key of claimed) {
      const n = (this.inFlight.get(key.provider) ?? 0) + 1;
      this.inFlight.set(key.provider, n);
      if (n > (this.stats.maxInFlight.get(key.provider) ?? 0)) this.stats.maxInFlight.set(key.provider, n);
      void this.check(key).finally(() => {
        this.inFlight.set(key.provider, (this.inFlight.get(key.provider) ?? 1) - 1);
        this.wake(0);
      });
    }
  }

  private async check(key: ClaimedKey): Promise<void> {
    try {
      const result = await this.probe(key);
      if (this.stopped) return;
      this.stats.statements++;
      const write = recordOutcome(this.services, key, result, this.opts.disableAfter);
      this.writing.add(write);
      const { written } = await write.finally(() => this.writing.delete(write));
      if (!written) return;
      this.stats.checks++;
      this.stats.byProvider.set(key.provider, (this.stats.byProvider.get(key.provider) ?? 0) + 1);
      this.opts.onCheck?.(key.provider, result.outcome);
    } catch (err) {
      // The lease runs out and another check takes the key: nothing is lost.
      this.services.logger.warn({ err, provider: key.provider, keyId: key.id }, 'key health: a check failed');
    }
  }

  private async probe(key: ClaimedKey): Promise<CheckResult> {
    const interval = this.opts.intervalMs;
    const plaintext = this.services.vault.open(PROVIDER_KEY_KIND, aadFor(key), {
      ciphertext: key.ciphertext,
      wrappedKey: key.wrapped_key,
      masterKeyId: key.master_key_id,
    });
    const v = await validateWithProvider(
      this.services.providers[key.provider],
      key.mode,
      plaintext,
      key.base_url,
      { ...this.services.agents, sandbox: this.services.config.BYO_SANDBOX, signing: this.services.signing },
      key.provider_config,
    );
    const at = this.now();
    const outcome: HealthOutcome = v.result === 'unknown' ? 'unreachable' : v.result;
    const delay =
      outcome === 'valid'
        ? afterValid(interval, this.random())
        : outcome === 'invalid'
          ? afterInvalid(interval, this.random())
          : afterUnreachable(interval, key.unreachable_checks + 1, this.random());
    return { outcome, message: v.reason, at: new Date(at), next: new Date(at + delay), models: v.models ?? null };
  }
}
