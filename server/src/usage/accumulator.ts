/**
 * The token counts of one response, and the accumulator every tap feeds: the usage objects of
 * every provider's wire format, merged field by field (later values win), each value checked to
 * be a count before it is kept.
 */

export interface UsageCounts {
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  /** Part of `inputTokens` read from the provider's prompt cache (priced as cached input). */
  cachedInputTokens?: number | null;
  /** Part of `inputTokens` written to the provider's prompt cache (Anthropic's cache writes). */
  cacheWriteTokens?: number | null;
  /** Token fields the provider sent that were not a count (see UsageAccumulator.num), by reason; absent when none. */
  rejected?: RejectedCounts;
}

/**
 * The most tokens one field of one response may report. Real calls are far below it (a
 * million-token context); a larger value is a broken or hostile upstream (a customer's own
 * base URL), and recording it would let one response skew a project's usage.
 */
export const MAX_TOKENS_PER_FIELD = 1_000_000_000;

export type TokenRejectReason = 'not_a_number' | 'negative' | 'fractional' | 'too_large';
export type RejectedCounts = Partial<Record<TokenRejectReason, number>>;

/** Where a document carries its usage (`usage`, Gemini's `usageMetadata`) and its model: the taps search for these before parsing. */
export const USAGE_RE = /"(usage|usageMetadata)"\s*:\s*\{/;
export const MODEL_RE = /"(model|modelVersion)"\s*:\s*"([^"\\]{1,200})"/;
/** The start of `"usage"` and `"usageMetadata"`. */
export const USAGE_KEY = '"usage';

type Obj = Record<string, unknown>;

/** Why `v` is not a token count: a non-negative integer up to MAX_TOKENS_PER_FIELD; null when it is one. */
function rejectReason(v: unknown): TokenRejectReason | null {
  if (typeof v !== 'number' || Number.isNaN(v)) return 'not_a_number';
  if (v < 0) return 'negative';
  if (v > MAX_TOKENS_PER_FIELD) return 'too_large'; // Infinity too (JSON's 1e999)
  if (!Number.isInteger(v)) return 'fractional';
  return null;
}
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

export class UsageAccumulator implements UsageCounts {
  model: string | null = null;
  inputTokens: number | null = null;
  outputTokens: number | null = null;
  totalTokens: number | null = null;
  cachedInputTokens: number | null = null;
  cacheWriteTokens: number | null = null;
  private anthropicCache = 0;
  /** The last rejection of each field, by field name: a stream repeating a bad value counts once. */
  private rejections: Map<string, TokenRejectReason> | null = null;

  /**
   * `u[field]` as a token count, or null: absent, or not a count. Anything but a non-negative
   * integer up to MAX_TOKENS_PER_FIELD (a string, a fraction, a huge or negative number) is
   * treated as unknown and counted, never stored: the usage columns and sums stay bounded.
   */
  private num(u: Obj, field: string): number | null {
    const v = u[field];
    if (v === undefined || v === null) return null;
    const reason = rejectReason(v);
    if (reason === null) return v as number;
    this.rejections ??= new Map();
    this.rejections.set(field, reason);
    return null;
  }

  /** Takes one parsed JSON document: a response body or one SSE event. */
  absorb(doc: unknown): void {
    const top = obj(doc);
    if (!top) {
      if (Array.isArray(doc)) for (const d of doc) this.absorb(d); // Gemini's non-SSE stream: a JSON array
      return;
    }
    const inner = obj(top.response) ?? obj(top.message) ?? top; // Responses API events; Anthropic message_start
    const model = inner.model ?? top.modelVersion ?? top.model;
    if (typeof model === 'string' && model && this.model === null) this.model = model.slice(0, 200);
    const usage = obj(inner.usage) ?? obj(top.usage);
    if (usage) this.absorbUsage(usage);
    const meta = obj(top.usageMetadata);
    if (meta) this.absorbGoogle(meta);
    const bedrock = obj(top['amazon-bedrock-invocationMetrics']);
    if (bedrock) this.absorbBedrockMetrics(bedrock);
  }

  private absorbUsage(u: Obj): void {
    // OpenAI's names, Anthropic's, then Bedrock Converse's (camelCase).
    const input = this.num(u, 'prompt_tokens') ?? this.num(u, 'input_tokens') ?? this.num(u, 'inputTokens');
    const output = this.num(u, 'completion_tokens') ?? this.num(u, 'output_tokens') ?? this.num(u, 'outputTokens');
    const total = this.num(u, 'total_tokens') ?? this.num(u, 'totalTokens');
    // Anthropic reports cached prompt tokens apart from input_tokens; all of them are input.
    const written = this.num(u, 'cache_creation_input_tokens');
    const read = this.num(u, 'cache_read_input_tokens');
    const cached = (written ?? 0) + (read ?? 0);
    if (cached > 0) this.anthropicCache = cached;
    if (written !== null) this.cacheWriteTokens = written;
    if (read !== null) this.cachedInputTokens = read;
    // OpenAI reports cached prompt tokens inside its input count (Chat: prompt_tokens_details, Responses: input_tokens_details).
    const details = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details);
    const openaiCached = details ? this.num(details, 'cached_tokens') : null;
    if (openaiCached !== null) this.cachedInputTokens = openaiCached;
    if (input !== null) this.inputTokens = input + this.anthropicCache;
    if (output !== null) this.outputTokens = output;
    if (total !== null) this.totalTokens = total;
  }

  /** The final counts Bedrock adds to an InvokeModel stream's last chunk. */
  private absorbBedrockMetrics(u: Obj): void {
    const input = this.num(u, 'inputTokenCount');
    const output = this.num(u, 'outputTokenCount');
    if (input !== null) this.inputTokens = input;
    if (output !== null) this.outputTokens = output;
  }

  private absorbGoogle(u: Obj): void {
    const input = this.num(u, 'promptTokenCount');
    const candidates = this.num(u, 'candidatesTokenCount');
    const thoughts = this.num(u, 'thoughtsTokenCount');
    const total = this.num(u, 'totalTokenCount');
    const cached = this.num(u, 'cachedContentTokenCount');
    if (cached !== null) this.cachedInputTokens = cached;
    if (input !== null) this.inputTokens = input;
    if (candidates !== null || thoughts !== null) this.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
    if (total !== null) this.totalTokens = total;
  }

  result(): UsageCounts {
    let total = this.totalTokens;
    if (total === null && (this.inputTokens !== null || this.outputTokens !== null))
      total = (this.inputTokens ?? 0) + (this.outputTokens ?? 0);
    const counts: UsageCounts = { model: this.model, inputTokens: this.inputTokens, outputTokens: this.outputTokens, totalTokens: total };
    if (this.cachedInputTokens !== null) counts.cachedInputTokens = this.cachedInputTokens;
    if (this.cacheWriteTokens !== null) counts.cacheWriteTokens = this.cacheWriteTokens;
    if (this.rejections) {
      const rejected: RejectedCounts = {};
      for (const reason of this.rejections.values()) rejected[reason] = (rejected[reason] ?? 0) + 1;
      counts.rejected = rejected;
    }
    return counts;
  }
}

/** Reads usage from a response's bytes as they pass through (extract.ts picks one per content type). */
export interface UsageTap {
  push(chunk: Buffer): void;
  finish(): UsageCounts;
  /** SSE only: the `data:` events seen, the output estimate of a stream cut before its usage (see cutStreamCounts). */
  readonly events?: number;
}
