import type { Kysely } from 'kysely';
import type { Database, Mode, ProviderName } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';
import { costOf } from '../pricing/cost.js';
import { type PriceOverrides, resolvePrice } from '../pricing/resolve.js';

export interface UsageRecord {
  projectId: string;
  mode: Mode;
  refId: string;
  provider: ProviderName;
  /** The stored provider key the call used (null: BYO answered before a key was chosen). */
  keyId: string | null;
  model: string | null;
  status: number;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  /** Parts of `inputTokens` read from and written to the provider's prompt cache (priced apart). */
  cachedInputTokens?: number | null;
  cacheWriteTokens?: number | null;
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
  /** Calls lost: the buffer was full, or the database stayed unreachable through shutdown. */
  onDrop?: (calls: number) => void;
  /** Roll-up rows the database refused for their data, dropped alone (see insertIsolating). */
  onRefused?: (rows: number, reason: RefusalReason) => void;
  /** A project's price overrides, read when its rows are written (pricing/overrides.ts); absent: the built-in table only. */
  prices?: { overrides(projectId: string, mode: string): Promise<PriceOverrides> };
}

/** Why the database refused a row: SQLSTATE class 22 (data exception) or 23 (constraint). */
export type RefusalReason = 'invalid_data' | 'constraint';

/** The refusal reason of a database error about the rows themselves; null for any other error (connection, timeout...). */
export function refusalReason(err: unknown): RefusalReason | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return null;
  if (code.startsWith('22')) return 'invalid_data';
  if (code.startsWith('23')) return 'constraint';
  return null;
}

/** One `usage_records` row: the calls of one key (project, mode, refId, provider, stored key, model, status) in one UTC minute. */
interface RollUp {
  key: string;
  projectId: string;
  mode: Mode;
  refId: string;
  provider: ProviderName;
  keyId: string | null;
  model: string | null;
  status: number;
  minute: Date;
  requests: number;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  cachedInputTokens: number;
  cacheWriteTokens: number;
}

const MINUTE = 60_000;
/** Sums saturate rather than lose precision (the columns are bigint; a count beyond 2^53 is not real). */
const add = (a: number, b: number) => Math.min(Number.MAX_SAFE_INTEGER, a + b);
const addNullable = (a: number | null, b: number | null) => (b === null ? a : add(a ?? 0, b));
/** Attempts at shutdown to write what is buffered, and the pause between them. */
const CLOSE_ATTEMPTS = 3;
const CLOSE_RETRY_MS = 250;

/**
 * Records usage off the proxy's hot path. `record()` adds the call to an
 * in-memory roll-up (a Map update, no I/O); a timer writes the roll-ups in batches.
 *
 * Calls that share project, mode, refId, provider, stored key, model, status and UTC minute become one
 * row with `requests` = how many, and summed latency and tokens: writing one row per call
 * cost more CPU than proxying the call (on the embedded database above all) and grows the
 * table by one row per request. Per-call latency distributions are in the Prometheus
 * histograms instead.
 *
 * A write the database refuses for the data of some rows (SQLSTATE class 22 or 23) is split
 * until the refused rows are alone; they are dropped and counted, the rest is written, so one
 * bad row never holds up the others. Any other failure (the database unreachable) keeps the
 * rows for the next attempt, up to `maxBuffered` roll-ups.
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
    // The stored key id is part of the roll-up: a key replaced within the minute gets its own row.
    const key = `${r.projectId}\u0000${r.mode}\u0000${r.refId}\u0000${r.provider}\u0000${r.keyId ?? ''}\u0000${r.model ?? ''}\u0000${r.status}\u0000${minute}`;
    const row = this.pending.get(key);
    if (row) {
      row.requests++;
      row.latencyMs = add(row.latencyMs, r.latencyMs);
      row.inputTokens = addNullable(row.inputTokens, r.inputTokens);
      row.outputTokens = addNullable(row.outputTokens, r.outputTokens);
      row.totalTokens = addNullable(row.totalTokens, r.totalTokens);
      row.cachedInputTokens = add(row.cachedInputTokens, r.cachedInputTokens ?? 0);
      row.cacheWriteTokens = add(row.cacheWriteTokens, r.cacheWriteTokens ?? 0);
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
      keyId: r.keyId,
      model: r.model,
      status: r.status,
      minute: new Date(minute),
      requests: 1,
      latencyMs: r.latencyMs,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      totalTokens: r.totalTokens,
      cachedInputTokens: r.cachedInputTokens ?? 0,
      cacheWriteTokens: r.cacheWriteTokens ?? 0,
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
    const settled = new Set<RollUp>();
    const refused: Refusals = { rows: 0, calls: 0, codes: new Set() };
    let written = 0;
    try {
      const costs = await this.costs(rows);
      for (let i = 0; i < rows.length; i += this.batchSize)
        written += await this.insertIsolating(rows.slice(i, i + this.batchSize), settled, refused, costs);
    } catch (err) {
      const rest = rows.filter((r) => !settled.has(r));
      this.logger.warn({ err, rows: rest.length }, 'could not write usage records; will retry');
      this.putBack(rest);
    } finally {
      if (written > 0) this.opts.onFlush?.(written);
      // One line per write, whatever the number of rows: the SQLSTATEs say why, no row content is logged.
      if (refused.rows > 0)
        this.logger.error(
          { rows: refused.rows, calls: refused.calls, sqlstates: [...refused.codes] },
          'the database refused usage records; dropped them and wrote the rest',
        );
    }
  }

  /**
   * Inserts `batch`; when the database refuses it for the data of some rows, bisects down to
   * those rows and drops them. Returns the rows written. Rows written or dropped join `settled`;
   * any other error is thrown, leaving the rest unsettled.
   */
  private async insertIsolating(batch: RollUp[], settled: Set<RollUp>, refused: Refusals, costs: Costs): Promise<number> {
    try {
      await this.insert(batch, costs);
    } catch (err) {
      const reason = refusalReason(err);
      if (reason === null) throw err;
      if (batch.length > 1) {
        const mid = batch.length >> 1;
        return (
          (await this.insertIsolating(batch.slice(0, mid), settled, refused, costs)) +
          (await this.insertIsolating(batch.slice(mid), settled, refused, costs))
        );
      }
      const row = batch[0] as RollUp;
      settled.add(row);
      refused.rows++;
      refused.calls += row.requests;
      refused.codes.add((err as { code: string }).code);
      this.opts.onRefused?.(1, reason);
      return 0;
    }
    for (const r of batch) settled.add(r);
    return batch.length;
  }

  /**
   * The cost of each roll-up: its model's price (the project's override, else the table) times
   * its token sums (cost is linear in tokens, so the sum of a minute's calls of one model costs
   * what the calls did). Prices are read when the rows are written, about a second after the
   * calls. A project whose overrides cannot be read is costed from the table, logged: pricing
   * never holds up usage.
   */
  private async costs(rows: RollUp[]): Promise<Costs> {
    const books = new Map<string, PriceOverrides | undefined>();
    const prices = this.opts.prices;
    if (prices)
      for (const r of rows) {
        const scope = `${r.projectId}|${r.mode}`;
        if (books.has(scope)) continue;
        books.set(
          scope,
          await prices.overrides(r.projectId, r.mode).catch((err: unknown) => {
            this.logger.warn({ err }, 'could not read price overrides; costing from the built-in table');
            return undefined;
          }),
        );
      }
    const costs: Costs = new Map();
    for (const r of rows) {
      const resolved = resolvePrice(r.provider, r.model, books.get(`${r.projectId}|${r.mode}`));
      costs.set(r, costOf(resolved?.price, r));
    }
    return costs;
  }

  private async insert(batch: RollUp[], costs: Costs): Promise<void> {
    await this.db
      .insertInto('usage_records')
      .values(
        batch.map((r) => ({
          project_id: r.projectId,
          mode: r.mode,
          ref_id: r.refId,
          provider: r.provider,
          key_id: r.keyId,
          model: r.model,
          status: r.status,
          requests: r.requests,
          latency_ms: Math.round(r.latencyMs),
          input_tokens: r.inputTokens,
          output_tokens: r.outputTokens,
          total_tokens: r.totalTokens,
          cost_usd: costs.get(r) ?? null,
          created_at: r.minute,
        })),
      )
      .execute();
  }

  /** Puts rows that could not be written back, merging with what arrived meanwhile; at most `maxBuffered` roll-ups. */
  private putBack(rest: RollUp[]): void {
    if (this.closed) {
      this.opts.onDrop?.(rest.reduce((n, r) => n + r.requests, 0));
      return;
    }
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
      cur.latencyMs = add(cur.latencyMs, r.latencyMs);
      cur.inputTokens = addNullable(cur.inputTokens, r.inputTokens);
      cur.outputTokens = addNullable(cur.outputTokens, r.outputTokens);
      cur.totalTokens = addNullable(cur.totalTokens, r.totalTokens);
      cur.cachedInputTokens = add(cur.cachedInputTokens, r.cachedInputTokens);
      cur.cacheWriteTokens = add(cur.cacheWriteTokens, r.cacheWriteTokens);
    }
  }

  /**
   * Stops the timer and writes what is buffered (call before the database closes). A write that
   * fails for a passing reason is tried again a few times; what still cannot be written is
   * counted as dropped and logged, never lost silently.
   */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < CLOSE_ATTEMPTS && this.pending.size > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, CLOSE_RETRY_MS * attempt));
      await this.flush().catch(() => {});
    }
    this.closed = true;
    if (this.pending.size === 0) return;
    const calls = [...this.pending.values()].reduce((n, r) => n + r.requests, 0);
    this.pending = new Map();
    this.opts.onDrop?.(calls);
    this.logger.error({ calls }, 'could not write usage records before shutdown; they are lost');
  }
}

/** USD per roll-up (null: unpriced), computed once per write. */
type Costs = Map<RollUp, number | null>;

interface Refusals {
  rows: number;
  calls: number;
  codes: Set<string>;
}
