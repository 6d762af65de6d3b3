/**
 * When a key is next checked (docs/key-health.md). Pure: `random` is a number in [0, 1).
 *
 * - After a check that reached the provider (valid): one interval, shortened by up to
 *   JITTER of it, so keys connected together drift apart instead of hitting the provider at
 *   the same moment every day. Never longer than the interval: each key is checked at least
 *   once per interval, and never twice within (1 - JITTER) of it.
 * - After an invalid answer: sooner (INVALID_RECHECK, at most one interval), so a key that is
 *   really dead is disabled in minutes, not after BYO_KEY_DISABLE_AFTER days, and a key that
 *   was refused once by mistake is back to `valid` quickly.
 * - After an unreachable provider: exponential backoff from a 64th of the interval, capped at
 *   one interval; it never disables a key.
 */

export const JITTER = 0.1;
/** How long a claimed key is held while its probe runs; a process that dies mid-check frees it after this. */
export const LEASE_MS = 120_000;
/** The re-check of a key the provider refused, at most. */
export const INVALID_RECHECK_MS = 10 * 60_000;

export function afterValid(intervalMs: number, random: number): number {
  return Math.round(intervalMs * (1 - JITTER * random));
}

export function afterInvalid(intervalMs: number, random: number): number {
  return afterValid(Math.min(intervalMs, INVALID_RECHECK_MS), random);
}

/** `failures`: consecutive unreachable checks, this one included (1 or more). */
export function afterUnreachable(intervalMs: number, failures: number, random: number): number {
  const base = intervalMs / 64;
  return afterValid(Math.min(intervalMs, base * 2 ** Math.min(Math.max(failures, 1) - 1, 30)), random);
}
