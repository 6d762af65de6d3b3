import type { IncomingMessage } from 'node:http';
import { BYOError } from '../errors.js';

/** The client left before the answer ended: a body read or an upstream exchange stops with this. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

/**
 * The whole body of a request (the proxy's sandbox and signed calls, and spend limits'
 * estimates, which the proxy then sends upstream), or a `payload_too_large` error past `limit`
 * bytes, saying "`who` request bodies up to N MiB." (the rest is left to the proxy to drain).
 */
export function readBody(req: IncomingMessage, limit: number, who: string): Promise<Buffer> {
  if (req.complete && req.readableLength === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        req.off('data', onData);
        reject(new BYOError('payload_too_large', `${who} request bodies up to ${limit / 1024 / 1024} MiB.`));
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => reject(new ClientClosedError())); // no-op once resolved
  });
}
