import { APIConnectionError, APIUserAbortError, BYOKError } from './errors.js';
import type { RawResponse } from './request.js';
import { iterateBytes, type ServerSentEvent, SSEDecoder } from './sse.js';

/** What a stream's parser says about one server-sent event. */
export type ParsedEvent<T> = { value: T } | { skip: true } | { done: true };

/**
 * A streamed response: iterate it with `for await`. Breaking out of the loop, calling
 * `abort()`, or aborting the `signal` given to the request closes the connection.
 */
export class Stream<T> implements AsyncIterable<T> {
  /** The HTTP response (status, headers). */
  readonly response: Response;
  /** BYO's request id for this call. */
  readonly requestId: string | undefined;
  /** Aborts the underlying request. */
  readonly controller: AbortController;
  private consumed = false;

  constructor(
    private readonly raw: RawResponse,
    private readonly parse: (event: ServerSentEvent) => ParsedEvent<T>,
  ) {
    this.response = raw.response;
    this.requestId = raw.requestId;
    this.controller = raw.controller;
  }

  /** Stops the stream and closes the connection. */
  abort(): void {
    this.controller.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.consumed) throw new BYOKError('A stream can be iterated only once.');
    this.consumed = true;
    const body = this.raw.response.body;
    if (!body) {
      this.raw.release();
      return;
    }
    const decoder = new SSEDecoder();
    let finished = false;
    try {
      for await (const chunk of this.bytes(body)) {
        for (const ev of decoder.push(chunk)) {
          const r = this.parse(ev);
          if ('done' in r) {
            finished = true;
            return;
          }
          if ('value' in r) yield r.value;
        }
      }
      for (const ev of decoder.end()) {
        const r = this.parse(ev);
        if ('done' in r) return;
        if ('value' in r) yield r.value;
      }
      finished = true;
    } finally {
      // An early `break` or an error: close the connection.
      if (!finished) this.controller.abort();
      this.raw.release();
    }
  }

  private async *bytes(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* iterateBytes(body);
    } catch (err) {
      if (this.controller.signal.aborted) throw new APIUserAbortError('The stream was aborted.', { cause: err });
      throw new APIConnectionError('The stream was interrupted before it finished.', { cause: err });
    }
  }

  /** The events as a `ReadableStream` (e.g. to return from a route handler after re-encoding). */
  toReadableStream(): ReadableStream<T> {
    const it = this[Symbol.asyncIterator]();
    return new ReadableStream<T>({
      async pull(ctrl) {
        const r = await it.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(r.value);
      },
      async cancel() {
        await it.return?.();
      },
    });
  }
}

export function parseJSONEvent(ev: ServerSentEvent): unknown {
  try {
    return JSON.parse(ev.data);
  } catch (err) {
    throw new BYOKError(`Could not parse a streamed event as JSON: ${ev.data.slice(0, 200)}`, { cause: err });
  }
}
