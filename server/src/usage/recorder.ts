import type { Kysely } from 'kysely';
import type { Database, Mode, ProviderName } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';

export interface UsageRecord {
  projectId: string;
  mode: Mode;
  refId: string;
  provider: ProviderName;
  model: string | null;
  status: number;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  /** When the call ended, epoch milliseconds. */
  createdAt: number;
}

export interface UsageRecorderOptions {
  flushIntervalMs: number;
  /** Rows per INSERT statement. */
  batchSize?: number;
  /** Roll-up rows kept while the database is unreachable; new calls beyond this are dropped. */
  maxBuffered?: number;
  onFlush?: (rows: number) => void;
  onDrop?: (calls: number) => void;
}

/** One `usage_records` row: the calls of one key (project, mode, refId, provider, model, status) in one UTC minute. */
interface RollUp {
  key: string;
  projectId: string;
  mode: Mode;
  refId: string;
  provider: ProviderName;
  model: string | null;
  status: number;
  minute: Date;
  requests: number;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
}

const MINUTE = 60_000;
const addNullable = (a: number | null, b: number | null) => (b === null ? a : (a ?? 0) + b);

/**
 * Records usage off the proxy's hot path (issue 3 §9). `record()` adds the call to an
 * in-memory roll-up (a Map update, no I/O); a timer writes the roll-ups in batches.
 *
 * Calls that share project, mode, refId, provider, model, status and UTC minute become one
 * row with `requests` = how many, and summed latency and tokens: writing one row per call
 * cost more CPU than proxying the call (on the embedded database above all) and grows the
 * table by one row per request. Per-call latency distributions are in the Prometheus
 * histograms instead. A failed write keeps the rows for the next attempt, up to `maxBuffered`.
 */
export class UsageRecorder {
  private pending = new Map<string, RollUp>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly opts: UsageRecorderOptions,
  ) {
    this.batchSize = opts.batchSize ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), Math.max(10, this.opts.flushIntervalMs));
    this.timer.unref();
  }

  record(r: UsageRecord): void {
    if (this.closed) return;
    const minute = Math.floor(r.createdAt / MINUTE) * MINUTE;
    const key = `${r.projectId}\u0000${r.mode}\u0000${r.refId}\u0000${r.provider}\u0000${r.model ?? ''}\u0000${r.status}\u0000${minute}`;
    const row = this.pending.get(key);
    if (row) {
      row.requests++;
      row.latencyMs += r.latencyMs;
      row.inputTokens = addNullable(row.inputTokens, r.inputTokens);
      row.outputTokens = addNullable(row.outputTokens, r.outputTokens);
      row.totalTokens = addNullable(row.totalTokens, r.totalTokens);
      return;
    }
    if (this.pending.size >= this.maxBuffered) {
      this.opts.onDrop?.(1);
      return;
    }
    this.pending.set(key, {
      key,
      projectId: r.projectId,
      mode: r.mode,
      refId: r.refId,
      provider: r.provider,
      model: r.model,
      status: r.status,
      minute: new Date(minute),
      requests: 1,
      latencyMs: r.latencyMs,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      totalTokens: r.totalTokens,
    });
    if (this.pending.size >= this.batchSize && !this.flushing) setImmediate(() => void this.flush());
  }

  /** Roll-up rows waiting to be written. */
  get buffered(): number {
    return this.pending.size;
  }

  /** Writes everything recorded so far; concurrent calls share one write. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    this.flushing = this.write().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(): Promise<void> {
    const rows = [...this.pending.values()];
    this.pending = new Map();
    let written = 0;
    try {
      for (let i = 0; i < rows.length; i += this.batchSize) {
        const batch = rows.slice(i, i + this.batchSize);
        await this.db
          .insertInto('usage_records')
          .values(
            batch.map((r) => ({
              project_id: r.projectId,
              mode: r.mode,
              ref_id: r.refId,
              provider: r.provider,
              model: r.model,
              status: r.status,
              requests: r.requests,
              latency_ms: Math.min(2_147_483_647, Math.round(r.latencyMs)),
              input_tokens: r.inputTokens,
              output_tokens: r.outputTokens,
              total_tokens: r.totalTokens,
              created_at: r.minute,
            })),
          )
          .execute();
        written += batch.length;
      }
      this.opts.onFlush?.(written);
    } catch (err) {
      if (written > 0) this.opts.onFlush?.(written);
      const rest = rows.slice(written);
      this.logger.warn({ err, rows: rest.length }, 'could not write usage records; will retry');
      if (this.closed) {
        this.opts.onDrop?.(rest.reduce((n, r) => n + r.requests, 0));
        return;
      }
      // Put them back, merging with what arrived meanwhile.
      for (const r of rest) {
        const cur = this.pending.get(r.key);
        if (!cur) {
          if (this.pending.size >= this.maxBuffered) {
            this.opts.onDrop?.(r.requests);
            continue;
          }
          this.pending.set(r.key, r);
          continue;
        }
        cur.requests += r.requests;
        cur.latencyMs += r.latencyMs;
        cur.inputTokens = addNullable(cur.inputTokens, r.inputTokens);
        cur.outputTokens = addNullable(cur.outputTokens, r.outputTokens);
        cur.totalTokens = addNullable(cur.totalTokens, r.totalTokens);
      }
    }
  }

  /** Stops the timer and writes what is left (call before the database closes). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => {});
    this.closed = true;
  }
}
