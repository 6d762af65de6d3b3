import { pooledRandomBase64url } from '../vault/random.js';

/** A request id in the app's format: `req_` and 16 base64url characters (96 random bits); made on every proxied call. */
export function newRequestId(): string {
  return `req_${pooledRandomBase64url(12)}`;
}
