/**
 * Reads the model and token counts out of a response as its bytes pass through, without
 * altering or holding up the body (issue 3 §9).
 *
 * - JSON bodies are not parsed, nor kept whole: only their first and last few KiB are, and
 *   the `model` and the `usage` object are found there (the providers put `usage` last) and
 *   only the usage object is parsed.
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
}

const HEAD_BYTES = 4 * 1024;
const TAIL_BYTES = 16 * 1024;
const MAX_SSE_LINE = 1024 * 1024;
const USAGE_RE = /"(usage|usageMetadata)"\s*:\s*\{/;
const MODEL_RE = /"(model|modelVersion)"\s*:\s*"([^"\\]{1,200})"/;

type Obj = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : null);
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

export class UsageAccumulator implements UsageCounts {
  model: string | null = null;
  inputTokens: number | null = null;
  outputTokens: number | null = null;
  totalTokens: number | null = null;
  private anthropicCache = 0;

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
  }

  private absorbUsage(u: Obj): void {
    const input = num(u.prompt_tokens) ?? num(u.input_tokens);
    const output = num(u.completion_tokens) ?? num(u.output_tokens);
    const total = num(u.total_tokens);
    // Anthropic reports cached prompt tokens apart from input_tokens; all of them are input.
    const cached = (num(u.cache_creation_input_tokens) ?? 0) + (num(u.cache_read_input_tokens) ?? 0);
    if (cached > 0) this.anthropicCache = cached;
    if (input !== null) this.inputTokens = input + this.anthropicCache;
    if (output !== null) this.outputTokens = output;
    if (total !== null) this.totalTokens = total;
  }

  private absorbGoogle(u: Obj): void {
    const input = num(u.promptTokenCount);
    const candidates = num(u.candidatesTokenCount);
    const thoughts = num(u.thoughtsTokenCount);
    const total = num(u.totalTokenCount);
    if (input !== null) this.inputTokens = input;
    if (candidates !== null || thoughts !== null) this.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
    if (total !== null) this.totalTokens = total;
  }

  result(): UsageCounts {
    let total = this.totalTokens;
    if (total === null && (this.inputTokens !== null || this.outputTokens !== null))
      total = (this.inputTokens ?? 0) + (this.outputTokens ?? 0);
    return { model: this.model, inputTokens: this.inputTokens, outputTokens: this.outputTokens, totalTokens: total };
  }
}

export interface UsageTap {
  push(chunk: Buffer): void;
  finish(): UsageCounts;
}

/** Picks the tap for a response's content type; `null` when there is nothing to read. */
export function usageTapFor(contentType: string | undefined, contentEncoding: string | undefined): UsageTap | null {
  if (!contentType || (contentEncoding && contentEncoding !== 'identity')) return null;
  const ct = contentType.toLowerCase();
  if (ct.startsWith('text/event-stream')) return new SseUsageTap();
  if (ct.includes('json')) return new JsonUsageTap();
  return null;
}

/**
 * Usage from a JSON body (or Gemini's JSON-array stream), without parsing the body: the model
 * is the first `"model"`/`"modelVersion"` string in the head (or the tail: Gemini puts it
 * last), the usage the last `"usage"`/`"usageMetadata"` object in the tail, found with a
 * native byte search and parsed alone. Parsing whole bodies cost several microseconds per
 * call on small ones, and milliseconds of the event loop on embedding batches. A key inside a
 * string cannot match: its quotes are escaped there.
 */
export class JsonUsageTap implements UsageTap {
  private readonly headParts: Buffer[] = [];
  private headSize = 0;
  private readonly tailParts: Buffer[] = [];
  private tailSize = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.headSize < HEAD_BYTES) {
      this.headParts.push(chunk);
      this.headSize += chunk.length;
    }
    this.tailParts.push(chunk);
    this.tailSize += chunk.length;
    // Keep only the chunks the last TAIL_BYTES need.
    while (this.tailParts.length > 1 && this.tailSize - (this.tailParts[0] as Buffer).length >= TAIL_BYTES)
      this.tailSize -= (this.tailParts.shift() as Buffer).length;
  }

  finish(): UsageCounts {
    const acc = new UsageAccumulator();
    if (this.tailSize === 0) return acc.result();
    const head = joined(this.headParts, this.headSize);
    const tail = joined(this.tailParts, this.tailSize);
    acc.model = modelIn(head) ?? (tail === head ? null : modelIn(tail));
    lastUsageIn(tail, acc);
    return acc.result();
  }
}

function joined(parts: Buffer[], size: number): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}

const MODEL_AT = /^"(?:model|modelVersion)"\s*:\s*"([^"\\]{1,200})"/;
const USAGE_AT = /^"(usage|usageMetadata)"\s*:\s*\{/;
/** How many occurrences of `"model`/`"usage` to try before giving up (each is a short decode). */
const MAX_TRIES = 16;
const USAGE_WINDOW = 4096;

/** The first `"model": "..."` (or `"modelVersion"`) value in `buf`. */
function modelIn(buf: Buffer): string | null {
  let at = buf.indexOf(MODEL_BYTES);
  for (let tries = 0; at !== -1 && tries < MAX_TRIES; tries++) {
    const m = MODEL_AT.exec(buf.toString('utf8', at, at + 240));
    if (m) return m[1] as string;
    at = buf.indexOf(MODEL_BYTES, at + 1);
  }
  return null;
}

/** Gives `acc` the last `"usage"` (or Gemini's `"usageMetadata"`) object in `buf`, parsed alone. */
function lastUsageIn(buf: Buffer, acc: UsageAccumulator): void {
  let at = buf.lastIndexOf(USAGE_BYTES);
  for (let tries = 0; at !== -1 && tries < MAX_TRIES; tries++) {
    // A usage object is well under 4 KiB; decode the rest of the body only if it did not close there.
    let text = buf.toString('utf8', at, at + USAGE_WINDOW);
    const m = USAGE_AT.exec(text);
    if (m) {
      const open = m[0].length - 1;
      let close = objectEnd(text, open);
      if (close === -1 && at + USAGE_WINDOW < buf.length) {
        text = buf.toString('utf8', at);
        close = objectEnd(text, open);
      }
      if (close === -1) return; // cut off: no usage rather than a guess
      let usage: unknown;
      try {
        usage = JSON.parse(text.slice(open, close + 1));
      } catch {
        return;
      }
      acc.absorb(m[1] === 'usage' ? { usage } : { usageMetadata: usage });
      return;
    }
    at = at === 0 ? -1 : buf.lastIndexOf(USAGE_BYTES, at - 1);
  }
}

/** The index of the `}` closing the object that opens at `open`, strings skipped; -1 if it does not close. */
function objectEnd(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      for (i++; i < s.length; i++) {
        const d = s.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return i;
  }
  return -1;
}

const USAGE_BYTES = Buffer.from('"usage');
const MODEL_BYTES = Buffer.from('"model');

export class SseUsageTap implements UsageTap {
  private readonly acc = new UsageAccumulator();
  /** Bytes after the last newline seen: the start of an incomplete line. */
  private carry: Buffer | null = null;
  private broken = false;

  push(chunk: Buffer): void {
    if (this.broken) return;
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
