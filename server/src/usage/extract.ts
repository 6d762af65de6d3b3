import { EventStreamUsageTap } from './event-stream-tap.js';

/**
 * Reads the model and token counts out of a response as its bytes pass through, without
 * altering or holding up the body.
 *
 * - JSON bodies are not parsed, nor kept whole: only their last 16 KiB are, where the
 *   top-level `usage` object is found (the providers put it last) and parsed alone; the model
 *   is found by a byte search too (see JsonUsageTap).
 * - SSE streams are split into lines incrementally; only `data:` lines that can hold a usage
 *   object (or the model, until it is known) are parsed. Usage objects are merged field by
 *   field, later values winning, which gives the final counts for every provider: OpenAI's
 *   last chunk, Anthropic's `message_start` + `message_delta`, Gemini's cumulative
 *   `usageMetadata`, the Responses API's `response.completed`.
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

const TAIL_BYTES = 16 * 1024;
const MAX_SSE_LINE = 1024 * 1024;
const USAGE_RE = /"(usage|usageMetadata)"\s*:\s*\{/;
const MODEL_RE = /"(model|modelVersion)"\s*:\s*"([^"\\]{1,200})"/;

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

export interface UsageTap {
  push(chunk: Buffer): void;
  finish(): UsageCounts;
  /** SSE only: the `data:` events seen, the output estimate of a stream cut before its usage (see cutStreamCounts). */
  readonly events?: number;
}

/** Picks the tap for a response's content type; `null` when there is nothing to read. */
export function usageTapFor(contentType: string | undefined, contentEncoding: string | undefined): UsageTap | null {
  if (!contentType || (contentEncoding && contentEncoding !== 'identity')) return null;
  const ct = contentType.toLowerCase();
  if (ct.startsWith('text/event-stream')) return new SseUsageTap();
  if (ct.includes('json')) return new JsonUsageTap();
  if (ct.startsWith('application/vnd.amazon.eventstream')) return new EventStreamUsageTap();
  return null;
}

/**
 * Usage from a JSON body (or Gemini's JSON-array stream) without parsing the body:
 *
 * - the model is the top-level `"modelVersion"` (Gemini puts it after the candidates) in the
 *   last 16 KiB, else the first `"model"` string of the body (OpenAI and Anthropic put it
 *   before the content, embeddings lists after the data; in a body longer than 16 KiB it is
 *   searched in the chunks that leave the tail, up to 256 KiB);
 * - the usage is the last `"usage"`/`"usageMetadata"` object in the last 16 KiB that belongs
 *   to the top-level object (or to the last element of a top-level array): found with a
 *   search, checked by scanning the text after it, and parsed alone.
 *
 * Parsing whole bodies cost several microseconds per call on small ones, and milliseconds of
 * the event loop on embedding batches. A key inside a string cannot match: its quotes are
 * escaped there. The bytes are read as latin1 (one character per byte, one native call per
 * body rather than one per search): JSON's structural characters are ASCII, so offsets and
 * scans are the bytes'; only a model name with other characters is decoded again as UTF-8.
 */
export class JsonUsageTap implements UsageTap {
  private model: string | null = null;
  /** Bytes scanned for `"model"` so far, and the end of the previous chunk (a key may straddle two). */
  private scanned = 0;
  private edge = '';
  private readonly tailParts: Buffer[] = [];
  private tailSize = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.tailParts.push(chunk);
    this.tailSize += chunk.length;
    // Keep only the chunks the last TAIL_BYTES need; a chunk leaving is searched for the model.
    while (this.tailParts.length > 1 && this.tailSize - (this.tailParts[0] as Buffer).length >= TAIL_BYTES) {
      const gone = this.tailParts.shift() as Buffer;
      this.tailSize -= gone.length;
      if (this.model === null && this.scanned < MODEL_SCAN_BYTES) this.scanForModel(gone.toString('latin1'));
    }
  }

  private scanForModel(chunk: string): void {
    // A key and its value may be cut across chunks: the last MODEL_WINDOW bytes seen so far are
    // searched again together with the start of this chunk.
    this.model = (this.edge ? firstModel(this.edge + chunk.slice(0, MODEL_WINDOW)) : null) ?? firstModel(chunk);
    this.scanned += chunk.length;
    if (this.model === null) this.edge = (chunk.length >= MODEL_WINDOW ? chunk : this.edge + chunk).slice(-MODEL_WINDOW);
  }

  finish(): UsageCounts {
    const acc = new UsageAccumulator();
    if (this.tailSize === 0) return acc.result();
    const tail = this.tailParts.length === 1 ? (this.tailParts[0] as Buffer) : Buffer.concat(this.tailParts, this.tailSize);
    const text = tail.toString('latin1');
    // Gemini's modelVersion comes last; the others' model comes first (before the content), or
    // after the data in an embeddings list: in a small body, the whole body is the tail. (Not
    // checked for depth: that scan cost more than the rest of the tap, and a nested "model"
    // key, in a tool's input, comes after the top-level one.)
    acc.model = lastTopLevelString(text, MODEL_VERSION_KEY) ?? this.model ?? firstModel(text);
    const usage = lastTopLevelObject(text);
    if (usage) acc.absorb(usage);
    return acc.result();
  }
}

const MODEL_KEY = '"model"';
const MODEL_VERSION_KEY = '"modelVersion"';
/** The start of `"usage"` and `"usageMetadata"`. */
const USAGE_KEY = '"usage';
const MODEL_SCAN_BYTES = 256 * 1024;
/** Enough bytes after a `"model"` key for its value (a model name is short; longer ones are cut to 200). */
const MODEL_WINDOW = 512;
/** The `"model"`/`"modelVersion"` key and its string value, where the search found the key. */
const STRING_VALUE = /"(?:model|modelVersion)"\s*:\s*("(?:[^"\\]|\\.){1,400}")/y;
/** USAGE_RE where the search found the key: the key found must be the one that matches. */
const OBJECT_VALUE = new RegExp(USAGE_RE.source, 'y');
/** How many occurrences of a key to try before giving up (each is a short match). */
const MAX_TRIES = 16;

/** The string value of the `"model"`/`"modelVersion"` key at `at` (cut to 200 characters), and the offset after it. */
function stringValue(text: string, at: number): { value: string; end: number } | null {
  STRING_VALUE.lastIndex = at;
  const m = STRING_VALUE.exec(text.length - at > MODEL_WINDOW ? text.slice(0, at + MODEL_WINDOW) : text);
  if (!m) return null;
  const end = at + m[0].length;
  let quoted = m[1] as string;
  // Latin1 gave one character per byte: a name with other characters is UTF-8 to decode again.
  if (/[^\x00-\x7f]/.test(quoted)) quoted = Buffer.from(quoted, 'latin1').toString('utf8');
  if (!quoted.includes('\\')) return { value: quoted.slice(1, -1).slice(0, 200), end };
  try {
    const value = JSON.parse(quoted) as string;
    return value ? { value: value.slice(0, 200), end } : null;
  } catch {
    return null;
  }
}

/** The first `"model": "..."` value in `text`. */
function firstModel(text: string): string | null {
  let at = text.indexOf(MODEL_KEY);
  for (let tries = 0; at !== -1 && tries < MAX_TRIES; tries++) {
    const found = stringValue(text, at);
    if (found !== null) return found.value;
    at = text.indexOf(MODEL_KEY, at + 1);
  }
  return null;
}

/** The last `key: "..."` in `text` that belongs to the top-level object. */
function lastTopLevelString(text: string, key: string): string | null {
  let at = text.lastIndexOf(key);
  for (let tries = 0; at !== -1 && tries < MAX_TRIES; tries++) {
    const found = stringValue(text, at);
    if (found !== null && closesTopLevel(text, found.end)) return found.value;
    at = at === 0 ? -1 : text.lastIndexOf(key, at - 1);
  }
  return null;
}

/** `{usage: {...}}` or `{usageMetadata: {...}}` for the last such object in `text` that belongs to the top-level object. */
function lastTopLevelObject(text: string): Record<string, unknown> | null {
  let at = text.lastIndexOf(USAGE_KEY);
  for (let tries = 0; at !== -1 && tries < MAX_TRIES; tries++) {
    OBJECT_VALUE.lastIndex = at;
    const m = OBJECT_VALUE.exec(text);
    if (m) {
      const open = at + m[0].length - 1;
      const close = closingBrace(text, open);
      if (close === -1) return null; // cut off: no usage rather than a guess
      if (closesTopLevel(text, close + 1)) {
        try {
          // Numbers and ASCII names: latin1 reads them as UTF-8 would.
          const value: unknown = JSON.parse(text.slice(open, close + 1));
          return m[1] === 'usage' ? { usage: value } : { usageMetadata: value };
        } catch {
          return null;
        }
      }
    }
    at = at === 0 ? -1 : text.lastIndexOf(USAGE_KEY, at - 1);
  }
  return null;
}

/** The index of the `}` closing the object that opens at `open`, strings skipped; -1 if it does not close. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) i = stringEnd(text, i);
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i;
  }
  return -1;
}

/**
 * Whether the text from `from` to the end closes exactly the object the value was in and then
 * the body: `}` and nothing more, or `}` and `]` when the body is an array of objects (the value
 * is then in its last element). A value inside a nested object or a list item fails this.
 */
function closesTopLevel(text: string, from: number): boolean {
  let depth = 0;
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) i = stringEnd(text, i);
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (--depth < 0) break;
    }
  }
  if (text.charCodeAt(i) !== 125) return false;
  let closers = 0;
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 93 && closers === 0) closers++;
    else if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return true;
}

/** The index of the quote closing the string that opens at `quote` (or the last index). */
function stringEnd(text: string, quote: number): number {
  for (let i = quote + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  return text.length - 1;
}

const USAGE_BYTES = Buffer.from(USAGE_KEY);
const DATA_BYTES = Buffer.from('data:');
const MODEL_BYTES = Buffer.from('"model');

export class SseUsageTap implements UsageTap {
  private readonly acc = new UsageAccumulator();
  /** Bytes after the last newline seen: the start of an incomplete line. */
  private carry: Buffer | null = null;
  private broken = false;
  events = 0;

  push(chunk: Buffer): void {
    if (this.broken) return;
    // Counted for a stream cut before its usage (cutStreamCounts); one native search per event.
    for (let at = chunk.indexOf(DATA_BYTES); at !== -1; at = chunk.indexOf(DATA_BYTES, at + 5)) this.events++;
    const lastNl = chunk.lastIndexOf(10);
    if (lastNl === -1) {
      this.carry = this.carry ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
      if (this.carry.length > MAX_SSE_LINE) this.abandon();
      return;
    }
    // Only complete lines are read; most chunks hold no usage and are skipped by a native
    // byte search, without being decoded.
    const head = this.carry;
    const complete = head ? Buffer.concat([head, chunk.subarray(0, lastNl + 1)]) : chunk.subarray(0, lastNl + 1);
    this.carry = lastNl + 1 < chunk.length ? Buffer.from(chunk.subarray(lastNl + 1)) : null;
    if (complete.indexOf(USAGE_BYTES) === -1 && (this.acc.model !== null || complete.indexOf(MODEL_BYTES) === -1)) return;
    const text = complete.toString('utf8');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.line(text, start, nl);
      start = nl + 1;
    }
  }

  private abandon(): void {
    this.broken = true; // an absurd line: stop reading usage rather than hold memory
    this.carry = null;
  }

  private line(text: string, start: number, end: number): void {
    // `data:` lines only; `\r\n` endings are trimmed by JSON.parse.
    if (text.charCodeAt(start) !== 100 || !text.startsWith('data:', start)) return;
    const payload = text.slice(start + 5, end);
    if (!USAGE_RE.test(payload) && (this.acc.model !== null || !MODEL_RE.test(payload))) return;
    try {
      this.acc.absorb(JSON.parse(payload));
    } catch {
      /* `[DONE]` or not JSON */
    }
  }

  finish(): UsageCounts {
    if (!this.broken && this.carry) {
      const text = this.carry.toString('utf8');
      this.line(text, 0, text.length);
    }
    return this.acc.result();
  }
}

/**
 * The counts of a stream the client cancelled (or that broke) before the provider sent its
 * final usage: the provider still bills what it generated. Output is then at least one token
 * per `data:` event seen (a content event carries about one token; the few framing events
 * make this a slight overestimate), so a cut stream is never costed at $0 when it streamed.
 * Input the provider did not report stays unknown here (the limits' reservation covers it).
 */
export function cutStreamCounts(u: UsageCounts, tap: UsageTap): UsageCounts {
  const events = tap.events ?? 0;
  if (events === 0 || (u.outputTokens ?? 0) >= events) return u;
  const outputTokens = events;
  return { ...u, outputTokens, totalTokens: (u.inputTokens ?? 0) + outputTokens };
}
