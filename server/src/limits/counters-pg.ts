import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Charge, CounterStore, TakeResult } from './types.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Counters in PostgreSQL (or the embedded PGlite): one statement per call through
 * `byo_limit_take` (migration 20261208_0310_limits), whose row locks make the check and the
 * charge one atomic step across connections, workers and instances.
 */
export class PgCounters implements CounterStore {
  constructor(private readonly db: Kysely<Database>) {}

  async take(projectId: string, mode: string, charges: Charge[]): Promise<TakeResult> {
    const { rows } = await sql<{ refused: number; used: number[]; warned: boolean[]; first_refusal: boolean }>`
      select * from byo_limit_take(${projectId}, ${mode}, ${charges.map((c) => c.key)}::text[],
        ${charges.map((c) => iso(c.start))}::timestamptz[], ${charges.map((c) => iso(c.end))}::timestamptz[],
        ${charges.map((c) => c.amount)}::float8[], ${charges.map((c) => c.max)}::float8[], ${charges.map((c) => c.warnAt)}::float8[])`.execute(
      this.db,
    );
    const r = rows[0];
    if (!r) throw new Error('byo_limit_take returned no row');
    return { refused: r.refused, used: r.used.map(Number), warned: r.warned ?? [], firstRefusal: Boolean(r.first_refusal) };
  }

  async settle(projectId: string, mode: string, charges: Charge[], deltas: number[]): Promise<boolean[]> {
    const { rows } = await sql<{ warned: boolean[] }>`
      select byo_limit_settle(${projectId}, ${mode}, ${charges.map((c) => c.key)}::text[],
        ${charges.map((c) => iso(c.start))}::timestamptz[], ${deltas}::float8[], ${charges.map((c) => c.max)}::float8[],
        ${charges.map((c) => c.warnAt)}::float8[]) as warned`.execute(this.db);
    return rows[0]?.warned ?? [];
  }

  async read(projectId: string, mode: string, counters: { key: string; start: number }[]): Promise<number[]> {
    if (counters.length === 0) return [];
    const rows = await this.db
      .selectFrom('limit_counters')
      .select(['key', 'window_start', 'used'])
      .where('project_id', '=', projectId)
      .where('mode', '=', mode as 'live' | 'test')
      .where(
        'key',
        'in',
        counters.map((c) => c.key),
      )
      .execute();
    const byKey = new Map(rows.map((r) => [`${r.key}|${new Date(r.window_start).getTime()}`, Number(r.used)]));
    return counters.map((c) => byKey.get(`${c.key}|${c.start}`) ?? 0);
  }

  /** Deletes counters of windows that ended more than a day ago. */
  async prune(now: number): Promise<void> {
    await this.db
      .deleteFrom('limit_counters')
      .where('window_end', '<', new Date(now - 86_400_000))
      .execute();
  }

  async close(): Promise<void> {}
}
