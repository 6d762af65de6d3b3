import { describe, expect, it } from 'vitest';
import { decodeSSE, type ServerSentEvent, SSEDecoder } from '../src/core/sse.js';
import * as root from '../src/index.js';

const enc = new TextEncoder();

/** Feeds `bytes` split at the given offsets and collects the events. */
function decodeSplit(bytes: Uint8Array, cuts: number[]): ServerSentEvent[] {
  const d = new SSEDecoder();
  const out: ServerSentEvent[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...d.push(bytes.slice(prev, c)));
    prev = c;
  }
  out.push(...d.end());
  return out;
}

const STREAM =
  ': a comment\r\n' +
  'event: message_start\r\n' +
  'data: {"text":"héllo wörld — 你好 🎉"}\r\n' +
  '\r\n' +
  'data: line one\n' +
  'data: line two\n' +
  'id: 42\n' +
  '\n' +
  'event: ping\r' +
  'data:no-space\r' +
  '\r' +
  'data: [DONE]\n\n';

const EXPECTED: ServerSentEvent[] = [
  { event: 'message_start', data: '{"text":"héllo wörld — 你好 🎉"}', id: undefined, retry: undefined },
  { event: 'message', data: 'line one\nline two', id: '42', retry: undefined },
  { event: 'ping', data: 'no-space', id: '42', retry: undefined },
  { event: 'message', data: '[DONE]', id: '42', retry: undefined },
];

describe('SSEDecoder', () => {
  it('decodes LF, CRLF and CR line endings, comments, multi-line data and ids', () => {
    expect(decodeSplit(enc.encode(STREAM), [])).toEqual(EXPECTED);
  });

  it('gives the same events for every single split point (mid-line, mid-UTF-8 character, between CR and LF)', () => {
    const bytes = enc.encode(STREAM);
    for (let i = 1; i < bytes.length; i++) expect(decodeSplit(bytes, [i]), `split at ${i}`).toEqual(EXPECTED);
  });

  it('gives the same events when fed one byte at a time', () => {
    const bytes = enc.encode(STREAM);
    expect(
      decodeSplit(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(EXPECTED);
  });

  it('gives the same events for random multi-point splits', () => {
    const bytes = enc.encode(STREAM);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 300; k++) {
      const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 8) }, () => 1 + Math.floor(rand() * (bytes.length - 1))))].sort(
        (a, b) => a - b,
      );
      expect(decodeSplit(bytes, cuts), `cuts ${cuts}`).toEqual(EXPECTED);
    }
  });

  it('splits a 4-byte UTF-8 character across three chunks', () => {
    const bytes = enc.encode('data: 🎉\n\n');
    const at = bytes.indexOf(0xf0);
    expect(decodeSplit(bytes, [at + 1, at + 2, at + 3])).toEqual([{ event: 'message', data: '🎉', id: undefined, retry: undefined }]);
  });

  it('a CR at the end of one chunk and LF at the start of the next is one line break', () => {
    const bytes = enc.encode('data: a\r\n\r\ndata: b\r\n\r\n');
    const events = decodeSplit(bytes, [8, 9, 10]);
    expect(events.map((e) => e.data)).toEqual(['a', 'b']);
  });

  it('strips a leading byte order mark', () => {
    expect(decodeSplit(enc.encode('\uFEFFdata: x\n\n'), [1, 2]).map((e) => e.data)).toEqual(['x']);
  });

  it('dispatches nothing for a block without data (its event name is dropped)', () => {
    expect(decodeSplit(enc.encode('event: lonely\n\ndata: y\n\n'), [])).toEqual([
      { event: 'message', data: 'y', id: undefined, retry: undefined },
    ]);
  });

  it('keeps an empty data line as an empty string', () => {
    expect(decodeSplit(enc.encode('data:\n\n'), []).map((e) => e.data)).toEqual(['']);
    expect(decodeSplit(enc.encode('data\ndata\n\n'), []).map((e) => e.data)).toEqual(['\n']);
  });

  it('reads retry and ignores unknown fields', () => {
    expect(decodeSplit(enc.encode('retry: 3000\nfoo: bar\ndata: z\n\n'), [])).toEqual([
      { event: 'message', data: 'z', id: undefined, retry: 3000 },
    ]);
  });

  it('flushes a last event that lacks its blank line at end of stream', () => {
    expect(decodeSplit(enc.encode('data: a\n\ndata: tail'), [3]).map((e) => e.data)).toEqual(['a', 'tail']);
  });

  it('decodeSSE reads a ReadableStream', async () => {
    const bytes = enc.encode(STREAM);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.slice(i, i + 5));
        c.close();
      },
    });
    const events: ServerSentEvent[] = [];
    for await (const ev of decodeSSE(body)) events.push(ev);
    expect(events).toEqual(EXPECTED);
  });
});

describe('the package root', () => {
  it('does not export the SSE decoder (an internal of Stream)', () => {
    expect(Object.keys(root)).not.toContain('decodeSSE');
    expect(Object.keys(root)).not.toContain('SSEDecoder');
    expect(Object.keys(root)).toContain('Stream');
  });
});
