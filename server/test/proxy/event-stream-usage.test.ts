import { describe, expect, it } from 'vitest';
import { respondAs } from '../../src/sandbox/index.js';
import { EventStreamUsageTap } from '../../src/usage/event-stream-tap.js';
import { usageTapFor } from '../../src/usage/extract.js';

/**
 * Usage from AWS event streams (Bedrock), read beside the bytes: frames cut anywhere by the
 * network, every frame's CRC checked by the AWS SDK's codec, the counts of Converse's
 * `metadata` event and of an InvokeModel stream's last `chunk`.
 */

function streamOf(path: string, body: unknown): Buffer {
  const out = respondAs('bedrock', { method: 'POST', path, query: new URLSearchParams(), body });
  expect(out.headers['content-type']).toBe('application/vnd.amazon.eventstream');
  return Buffer.concat((out.events ?? []).map((e) => Buffer.from(e as Uint8Array)));
}

const converse = { messages: [{ role: 'user', content: [{ text: 'Hello there' }] }] };
const invoke = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hello there' }] };

/** Pushes `bytes` in pieces of `size` (1: every byte alone). */
function tapIn(bytes: Buffer, size: number) {
  const tap = usageTapFor('application/vnd.amazon.eventstream', undefined);
  expect(tap).toBeInstanceOf(EventStreamUsageTap);
  for (let i = 0; i < bytes.length; i += size) tap?.push(bytes.subarray(i, i + size));
  return tap?.finish();
}

describe('usage from Bedrock event streams', () => {
  it('ConverseStream: the metadata event’s usage, however the bytes are cut', () => {
    const bytes = streamOf('/model/m/converse-stream', converse);
    const whole = tapIn(bytes, bytes.length);
    expect(whole?.inputTokens).toBeGreaterThan(0);
    expect(whole?.outputTokens).toBeGreaterThan(0);
    expect(whole?.totalTokens).toBe((whole?.inputTokens ?? 0) + (whole?.outputTokens ?? 0));
    for (const size of [1, 7, 13, 100]) expect(tapIn(bytes, size)).toEqual(whole);
  });

  it('InvokeModelWithResponseStream: Anthropic’s events inside the chunks, and Bedrock’s invocation metrics', () => {
    const bytes = streamOf('/model/anthropic.claude-3-haiku-20240307-v1:0/invoke-with-response-stream', invoke);
    const counts = tapIn(bytes, 5);
    expect(counts?.model).toBe('anthropic.claude-3-haiku-20240307-v1:0');
    expect(counts?.inputTokens).toBeGreaterThan(0);
    expect(counts?.outputTokens).toBeGreaterThan(0);
  });

  it('a frame whose CRC does not match stops the reading (no counts from a corrupted stream), and nothing throws', () => {
    const bytes = Buffer.from(streamOf('/model/m/converse-stream', converse));
    const at = bytes.length - 10; // inside the last frame (metadata): its message CRC no longer matches
    bytes[at] = (bytes[at] as number) ^ 0xff;
    const counts = tapIn(bytes, 64);
    expect(counts?.inputTokens).toBeNull();
    expect(counts?.outputTokens).toBeNull();
  });

  it('an absurd frame length is not buffered', () => {
    const tap = new EventStreamUsageTap();
    const head = Buffer.alloc(12);
    head.writeUInt32BE(0x7fffffff, 0);
    tap.push(head);
    tap.push(Buffer.alloc(1024 * 1024));
    expect(tap.finish().inputTokens).toBeNull();
  });
});
