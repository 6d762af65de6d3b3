import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { BYOError } from '../errors.js';
import { ClientClosedError } from './call.js';

/** Request bodies on the proxy path: streamed upstream, sent whole when they already are, or read whole (sandbox, signing). */

/**
 * A body still arriving, as undici's request body. undici destroys the stream it is given when
 * the upload ends, early too (a provider answering before reading it all); destroying `req`
 * itself would then stall the client's connection, so undici gets this pipe and `finish()`
 * drains `req` (the streamed path only: a small JSON body goes whole, see wholeBody()).
 */
export function upload(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  req.pipe(body);
  return body;
}

/** The body of a request, or a `payload_too_large` error past `limit` bytes (the rest is then left to finish() to drain). */
export function readBody(req: IncomingMessage, limit: number, what = 'The sandbox'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        req.off('data', onData);
        reject(
          new BYOError(
            'payload_too_large',
            `${what} accept${what.endsWith('s') ? '' : 's'} request bodies up to ${limit / 1024 / 1024} MiB.`,
          ),
        );
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => reject(new ClientClosedError())); // no-op once resolved
  });
}

/**
 * The request body, if all of it has already arrived (a small JSON request usually comes in
 * the same packets as its headers): it then goes upstream in the same write as the headers,
 * instead of through a stream pipe (more JavaScript, a second write, a second wake-up of the
 * provider's server). Nothing waits for a body here: one still arriving streams through.
 * All `content-length` bytes buffered means the body is whole, even before node marks the
 * request `complete` (it does so a little later, when it parses the message's end).
 */
export function wholeBody(req: IncomingMessage, te: string | undefined, cl: string | undefined): Buffer | null {
  if (te !== undefined || cl === undefined || req.readableFlowing !== null || req.readableEncoding !== null) return null;
  if (req.readableLength === 0 || req.readableLength !== Number(cl)) return null;
  const chunk: unknown = req.read();
  return Buffer.isBuffer(chunk) ? chunk : null;
}
