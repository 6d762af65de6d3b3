import type { SpendLimit } from '../schemas/limits.js';

export type LimitWindow = SpendLimit['window'];
export type LimitMetric = SpendLimit['metric'];
/** Whose limit: the customer's own, the project default (both count the customer's calls), or the key owner's cap. */
export type LimitScope = 'customer' | 'default' | 'owner';

/** One counter one call charges: a limit in its current window. */
export interface Charge {
  key: string;
  start: number;
  end: number;
  amount: number;
  max: number;
  warnAt: number;
  limit: SpendLimit;
  scope: LimitScope;
}

export interface TakeResult {
  /** 0: admitted and charged; else the 1-based index of the first charge over its max (nothing charged). */
  refused: number;
  /** Each counter's use after the call (or, when refused, before it). */
  used: number[];
  /** Counters that crossed their warning threshold with this call, first time in the window. */
  warned: boolean[];
  /** The refusal is the first of the window for that counter. */
  firstRefusal: boolean;
}

/** Where counters live: PostgreSQL (counters-pg.ts) or Redis (counters-redis.ts); atomic per call, never per process. */
export interface CounterStore {
  take(projectId: string, mode: string, charges: Charge[]): Promise<TakeResult>;
  /** Moves charges by `deltas` (real minus reserved); returns which crossed their warning threshold, first time in the window. */
  settle(projectId: string, mode: string, charges: Charge[], deltas: number[]): Promise<boolean[]>;
  read(projectId: string, mode: string, counters: { key: string; start: number }[]): Promise<number[]>;
  /** Deletes counters of windows that ended long ago (absent: the store expires them itself). */
  prune?(now: number): Promise<void>;
  close(): Promise<void>;
}
