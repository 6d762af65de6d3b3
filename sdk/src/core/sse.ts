/**
 * A small Server-Sent Events decoder (WHATWG "event stream" parsing) over raw bytes. It is
 * fed chunks exactly as they come off the network, so it copes with chunks split anywhere:
 * mid-line, mid-UTF-8 character, between the `\r` and `\n` of a CRLF.
 */

export interface ServerSentEvent {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines, joined with `\n`. */
  data: string;
  id: string | undefined;
  retry: number | undefined;
}

export class SSEDecoder {
  private readonly text = new TextDecoder('utf-8');
  private buffer = '';
  /** The last chunk ended with `\r`: a `\n` starting the next one belongs to it. */
  private pendingCR = false;
  private started = false;
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;

  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array | string): ServerSentEvent[] {
    let s = typeof chunk === 'string' ? chunk : this.text.decode(chunk, { stream: true });
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    if (this.pendingCR && s.startsWith('\n')) s = s.slice(1);
    this.pendingCR = false;
    this.buffer += s;
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCR = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** End of stream: flushes a final event that lacked its blank line. */
  end(): ServerSentEvent[] {
    const tail = this.text.decode();
    const events = tail ? this.push(tail) : [];
    if (this.buffer.length > 0) {
      const ev = this.line(this.buffer);
      this.buffer = '';
      if (ev) events.push(ev);
    }
    const last = this.dispatch();
    if (last) events.push(last);
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        return undefined;
    }
    return undefined;
  }

  /** Per the spec, a block without `data:` lines dispatches nothing (its `event:` is dropped). */
  private dispatch(): ServerSentEvent | undefined {
    if (this.data.length === 0) {
      this.event = '';
      this.retry = undefined;
      return undefined;
    }
    const ev: ServerSentEvent = { event: this.event || 'message', data: this.data.join('\n'), id: this.id, retry: this.retry };
    this.event = '';
    this.data = [];
    this.retry = undefined;
    return ev;
  }
}

/** Decodes a byte stream into events. */
export async function* decodeSSE(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new SSEDecoder();
  for await (const chunk of iterateBytes(body)) yield* decoder.push(chunk);
  yield* decoder.end();
}

/** Iterates a `ReadableStream` (cancelling it on early exit) or any async iterable of bytes. */
export async function* iterateBytes(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (typeof (body as Partial<ReadableStream>).getReader !== 'function') {
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  let done = false;
  try {
    while (true) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
