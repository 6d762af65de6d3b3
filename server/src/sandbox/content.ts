import { createHash } from 'node:crypto';

/**
 * Deterministic building blocks for the test-mode sandbox: the same request always gets the
 * same reply, ids and token counts, so documented snippets and tests can assert on them.
 */

export const SANDBOX_REPLY =
  'Hello from the BYO sandbox! This is a deterministic test-mode reply, so you can build and test your integration without a provider account.';

/** A fixed creation time (2026-01-01T00:00:00Z): deterministic, and plausible. */
export const SANDBOX_CREATED = 1_767_225_600;

export interface ReplyOptions {
  /** Reply text; defaults to SANDBOX_REPLY. */
  text?: string;
  /** Number of streamed text deltas (default: one per word). */
  chunks?: number;
}

/** A short stable id fragment derived from the request. */
export function stableId(seed: string, length = 24): string {
  return createHash('sha256').update(seed).digest('base64url').replace(/[-_]/g, 'x').slice(0, length);
}

/** Roughly what a BPE tokenizer gives for English text: one token per 4 characters, at least 1. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Collects every string value under `value` (message contents, parts, instructions). */
export function collectText(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 12) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectText(v, out, depth + 1);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectText(v, out, depth + 1);
  return out;
}

export function promptTokens(...values: unknown[]): number {
  return estimateTokens(collectText(values).join(' '));
}

/** Splits `text` into `n` consecutive pieces (at word boundaries when it can). */
export function splitText(text: string, n?: number): string[] {
  const words = text.match(/\S+\s*/g) ?? [text];
  const count = Math.max(1, Math.min(n ?? words.length, text.length));
  if (count === words.length) return words;
  if (count < words.length) {
    const per = Math.ceil(words.length / count);
    const out: string[] = [];
    for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(''));
    return out;
  }
  const per = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += per) out.push(text.slice(i, i + per));
  return out;
}

/** A deterministic unit-length embedding of `input` with `dims` dimensions. */
export function embeddingOf(input: string, dims: number): number[] {
  const out = new Array<number>(dims);
  let block = Buffer.alloc(0);
  let counter = 0;
  let sum = 0;
  for (let i = 0; i < dims; i++) {
    const off = (i * 2) % 32;
    if (off === 0) block = createHash('sha256').update(`${counter++}:${input}`).digest();
    const v = block.readUInt16LE(off) / 32_768 - 1;
    out[i] = v;
    sum += v * v;
  }
  const norm = Math.sqrt(sum) || 1;
  for (let i = 0; i < dims; i++) out[i] = Math.round(((out[i] as number) / norm) * 1e6) / 1e6;
  return out;
}

/** OpenAI's `encoding_format: "base64"`: little-endian float32, base64. */
export function embeddingBase64(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i] as number, i * 4);
  return buf.toString('base64');
}

/** Server-sent events framing. */
export function sseEvent(data: unknown, event?: string, eol = '\n'): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}${eol}` : ''}data: ${payload}${eol}${eol}`;
}
