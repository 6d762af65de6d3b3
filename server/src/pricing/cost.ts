import type { ModelPrice } from './table.js';

/** Token counts of one call (or the sums of a roll-up of calls of one model). */
export interface TokenCounts {
  inputTokens: number | null;
  outputTokens: number | null;
  /** Part of `inputTokens` read from the provider's prompt cache. */
  cachedInputTokens?: number | null;
  /** Part of `inputTokens` written to the provider's prompt cache. */
  cacheWriteTokens?: number | null;
}

const PER_MILLION = 1_000_000;

/** Whether the provider reported any token count. */
export const hasTokens = (t: TokenCounts): boolean => t.inputTokens !== null || t.outputTokens !== null;

/**
 * USD for these tokens at `price`; null when there are tokens but no price (unpriced, never
 * $0). No tokens reported costs 0 whatever the price: nothing was billed as far as BYO can
 * tell (an error, a model list).
 */
export function costOf(price: ModelPrice | null | undefined, t: TokenCounts): number | null {
  if (!hasTokens(t)) return 0;
  if (!price) return null;
  const input = t.inputTokens ?? 0;
  const cached = Math.min(input, t.cachedInputTokens ?? 0);
  const written = Math.min(input - cached, t.cacheWriteTokens ?? 0);
  const plain = input - cached - written;
  const usd =
    plain * price.input +
    cached * (price.cachedInput ?? price.input) +
    written * (price.cacheWrite ?? price.input) +
    (t.outputTokens ?? 0) * price.output;
  return usd / PER_MILLION;
}
