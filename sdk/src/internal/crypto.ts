import { encodeUtf8 } from './encoding.js';

let subtlePromise: Promise<SubtleCrypto> | undefined;

/**
 * Web Crypto's `SubtleCrypto`: global on Node 20+, Bun, Deno, browsers and edge runtimes.
 * Node 18 has it only as `require('node:crypto').webcrypto`; that import is built from a
 * variable so bundlers for edge runtimes leave it alone (it never runs there).
 */
export function getSubtle(): Promise<SubtleCrypto> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle) return Promise.resolve(subtle);
  subtlePromise ??= (async () => {
    const specifier = ['node', 'crypto'].join(':');
    const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as { webcrypto?: Crypto };
    if (!mod.webcrypto?.subtle) throw new Error('Web Crypto (crypto.subtle) is not available in this runtime.');
    return mod.webcrypto.subtle;
  })();
  return subtlePromise;
}

export async function hmacKey(secret: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const subtle = await getSubtle();
  return subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export async function hmacSign(key: CryptoKey, message: Uint8Array<ArrayBuffer> | string): Promise<Uint8Array<ArrayBuffer>> {
  const subtle = await getSubtle();
  const data = typeof message === 'string' ? encodeUtf8(message) : message;
  return new Uint8Array(await subtle.sign('HMAC', key, data));
}

/** Timing-safe: Web Crypto compares the MAC in constant time. */
export async function hmacVerify(key: CryptoKey, signature: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const subtle = await getSubtle();
  return subtle.verify('HMAC', key, signature, message);
}
