import { MODEL_RE, UsageAccumulator, type UsageCounts, type UsageTap, USAGE_KEY, USAGE_RE } from './accumulator.js';

const MAX_SSE_LINE = 1024 * 1024;
const USAGE_BYTES = Buffer.from(USAGE_KEY);
const DATA_BYTES = Buffer.from('data:');
const MODEL_BYTES = Buffer.from('"model');

/**
 * Usage from an SSE stream: split into lines incrementally; only the `data:` lines that can hold
 * a usage object (or the model, until it is known) are parsed.
 */
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
