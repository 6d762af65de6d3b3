import { UsageAccumulator, type UsageCounts, type UsageTap, USAGE_KEY, USAGE_RE } from './accumulator.js';

const TAIL_BYTES = 16 * 1024;

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
