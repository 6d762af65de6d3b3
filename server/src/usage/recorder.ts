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
  createdAt: Date;
}

export interface UsageRecorderOptions {
  flushIntervalMs: number;
  /** Rows per INSERT statement. */
  batchSize?: number;
  /** Rows kept while the database is unreachable; older ones are dropped beyond this. */
  maxBuffered?: number;
  onFlush?: (rows: number) => void;
  onDrop?: (rows: number) => void;
}

/**
 * Buffers usage rows in memory and writes them in batches, off the proxy's hot path
 * (issue 3 §9). `record()` is a push onto an array; a timer (or a full batch) flushes.
 * A failed write keeps the rows for the next attempt, up to `maxBuffered`.
 */
export class UsageRecorder {
  private buffer: UsageRecord[] = [];
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
    this.buffer.push(r);
    if (this.buffer.length > this.maxBuffered) {
      const drop = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, drop);
      this.opts.onDrop?.(drop);
    }
    if (this.buffer.length >= this.batchSize && !this.flushing) setImmediate(() => void this.flush());
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Writes everything buffered so far; concurrent calls share one write. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    this.flushing = this.write().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(): Promise<void> {
    const rows = this.buffer;
    this.buffer = [];
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
              latency_ms: r.latencyMs,
              input_tokens: r.inputTokens,
              output_tokens: r.outputTokens,
              total_tokens: r.totalTokens,
              created_at: r.createdAt,
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
      if (!this.closed) {
        this.buffer = rest.concat(this.buffer);
        if (this.buffer.length > this.maxBuffered) {
          const drop = this.buffer.length - this.maxBuffered;
          this.buffer.splice(0, drop);
          this.opts.onDrop?.(drop);
        }
      } else {
        this.opts.onDrop?.(rest.length);
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
