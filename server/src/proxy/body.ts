import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';

/** Request bodies on the proxy path: streamed upstream, or sent whole when they already are (read whole: net/request-body.ts). */

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
