import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { UsageAccumulator, type UsageCounts, type UsageTap } from './accumulator.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
/** A frame larger than this is not an answer's event: stop reading usage rather than hold it. */
const MAX_FRAME = 16 * 1024 * 1024;
const PRELUDE = 12;

/**
 * Usage from an AWS event stream (Bedrock's ConverseStream and InvokeModelWithResponseStream)
 * as its bytes pass through: frames are cut by their length prelude and decoded (CRCs checked)
 * by the AWS SDK's own codec; the bytes sent to the client are never touched. Converse's
 * `metadata` event carries the usage; an InvokeModel stream's `chunk` events carry the model's
 * own events (Anthropic's `message_start` / `message_delta`, and Bedrock's
 * `amazon-bedrock-invocationMetrics` in the last) base64-encoded.
 */
export class EventStreamUsageTap implements UsageTap {
  private readonly acc = new UsageAccumulator();
  private carry: Buffer | null = null;
  private broken = false;

  push(chunk: Buffer): void {
    if (this.broken) return;
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    while (buf.length >= PRELUDE) {
      const total = buf.readUInt32BE(0);
      if (total < PRELUDE + 4 || total > MAX_FRAME) {
        this.abandon();
        return;
      }
      if (buf.length < total) break;
      this.frame(buf.subarray(0, total));
      if (this.broken) return;
      buf = buf.subarray(total);
    }
    this.carry = buf.length ? Buffer.from(buf) : null;
  }

  private frame(bytes: Buffer): void {
    let message: ReturnType<EventStreamCodec['decode']>;
    try {
      message = codec.decode(bytes);
    } catch {
      this.abandon(); // a bad CRC: the stream is not what it claims, read nothing more
      return;
    }
    const type = message.headers[':event-type']?.value;
    if (type !== 'metadata' && type !== 'chunk') return;
    let doc: unknown;
    try {
      doc = JSON.parse(toUtf8(message.body));
      if (type === 'chunk') {
        const b64 = (doc as { bytes?: unknown }).bytes;
        if (typeof b64 !== 'string') return;
        const inner = Buffer.from(b64, 'base64').toString('utf8');
        if (!inner.includes('usage') && !inner.includes('invocationMetrics') && !inner.includes('"model"')) return;
        doc = JSON.parse(inner);
      }
    } catch {
      return;
    }
    this.acc.absorb(doc);
  }

  private abandon(): void {
    this.broken = true;
    this.carry = null;
  }

  finish(): UsageCounts {
    return this.acc.result();
  }
}
