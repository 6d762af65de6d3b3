import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { pooledRandomBytes } from '../vault/random.js';

/**
 * BYO API keys: `byo_{pk|sk}_{live|test}_<43 base62 chars of 32 random bytes><6 base62 CRC32 chars>`.
 * The checksum lets the server (and secret scanners) reject a mistyped key without a lookup.
 */
export type KeyKind = 'pk' | 'sk';
export type Mode = 'live' | 'test';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LEN = 43;
const CHECK_LEN = 6;
export const API_KEY_PATTERN = /^byo_(pk|sk)_(live|test)_([0-9A-Za-z]{49})$/;

export function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(length, '0').slice(-length);
}

/** The CRC32 of the payload in base62, as `base62` would write its 4 bytes, without BigInt (it runs on every proxied call). */
function checksum(payload: string): string {
  let n = crc32(payload) >>> 0;
  let out = '';
  for (let i = 0; i < CHECK_LEN; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateApiKey(kind: KeyKind, mode: Mode): string {
  const prefix = `byo_${kind}_${mode}_`;
  const body = base62(randomBytes(32), BODY_LEN);
  return `${prefix}${body}${checksum(prefix + body)}`;
}

export interface ParsedKey {
  kind: KeyKind;
  mode: Mode;
}

/** Returns the key's kind and mode if its shape and checksum are right, else null. */
export function parseApiKey(key: string): ParsedKey | null {
  const m = API_KEY_PATTERN.exec(key);
  if (!m) return null;
  const rest = m[3] as string;
  const body = rest.slice(0, BODY_LEN);
  const sum = rest.slice(BODY_LEN);
  const prefix = `byo_${m[1]}_${m[2]}_`;
  if (checksum(prefix + body) !== sum) return null;
  return { kind: m[1] as KeyKind, mode: m[2] as Mode };
}

/** SHA-256 is right for 256-bit random keys; hex so it indexes as text. */
export function hashSecret(value: string): string {
  // The one-shot form: no Hash object per call (this runs on every proxied call).
  return hash('sha256', value, 'hex');
}

/** A display hint: the prefix and the last four characters. */
export function apiKeyHint(key: string): string {
  const m = /^byo_(pk|sk)_(live|test)_/.exec(key);
  return `${m ? m[0] : ''}...${key.slice(-4)}`;
}

export function randomId(prefix: string, bytes = 16): string {
  return `${prefix}_${base62(pooledRandomBytes(bytes), Math.ceil((bytes * 8) / Math.log2(62)))}`;
}
