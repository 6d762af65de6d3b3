import { randomBytes } from 'node:crypto';

/**
 * Non-secret random bytes (ids, GCM IVs) from a pool refilled 4 KiB at a time, as Node does
 * for randomUUID(). The bytes come from the same CSPRNG and are never handed out twice; the
 * pool only saves a call into it per value, which costs several microseconds on machines
 * where that call is slow. Secret material (data keys, API keys, tokens) uses randomBytes().
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** Reserves `n` unused bytes of the pool (refilled when short) and returns where they start. */
function take(n: number): number {
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const at = offset;
  offset += n;
  return at;
}

export function pooledRandomBytes(n: number): Buffer {
  if (n > 256) return randomBytes(n);
  const at = take(n);
  return pool.subarray(at, at + n);
}

/** `n` pooled random bytes as base64url, encoded straight from the pool (no Buffer view per value). */
export function pooledRandomBase64url(n: number): string {
  const at = take(n);
  return pool.toString('base64url', at, at + n);
}
