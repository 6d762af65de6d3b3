import { sql } from 'kysely';

/** Longest wait honoured from a receiver's Retry-After. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

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

/** A timestamp `ms` from now, computed by the database (its clock decides when a retry is due). */
export const inMs = (ms: number) => sql<Date>`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;
