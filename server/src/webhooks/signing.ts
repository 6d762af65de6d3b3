import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook secrets and signatures.
 *
 * A secret is `whsec_` + base64 of 32 random bytes. Two signatures go on every delivery:
 * - `X-BYO-Signature`: hex HMAC-SHA256 of the raw body, keyed with the secret string exactly
 *   as shown (`whsec_...`, UTF-8). Always one value, with the current secret (signDelivery says why).
 * - `webhook-signature` (Standard Webhooks): `v1,<base64 HMAC-SHA256 of "{id}.{ts}.{body}">`
 *   keyed with the base64-decoded part after `whsec_`. During an overlap: two space-separated
 *   `v1,` entries, new first.
 */

export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The Standard Webhooks key: the bytes after `whsec_`, base64-decoded. */
export function standardKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

export function byoSignature(secret: string, body: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

export function standardSignature(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', standardKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export interface SignedHeaders {
  'content-type': string;
  'user-agent': string;
  'x-byo-event-id': string;
  'x-byo-timestamp': string;
  'x-byo-signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The headers for one attempt. `secrets` holds the current secret first, then the previous one
 * while a rotation overlap lasts. `timestamp` is the attempt time in Unix seconds.
 *
 * `X-BYO-Signature` is one value, made with the current secret: the published receiver
 * compares the whole header, so a list would fail it for the whole overlap. The overlap is
 * carried by `webhook-signature`, whose format (Standard Webhooks) is a list.
 */
export function signDelivery(secrets: readonly string[], eventId: string, timestamp: number, body: string): SignedHeaders {
  if (secrets.length === 0) throw new Error('no signing secret');
  const ts = String(timestamp);
  return {
    'content-type': 'application/json',
    'user-agent': 'BYO-Webhooks/1',
    'x-byo-event-id': eventId,
    'x-byo-timestamp': ts,
    'x-byo-signature': byoSignature(secrets[0] as string, body),
    'webhook-id': eventId,
    'webhook-timestamp': ts,
    'webhook-signature': secrets.map((s) => standardSignature(s, eventId, timestamp, body)).join(' '),
  };
}

/**
 * Checks `X-BYO-Signature`, accepting any of comma-separated values (deliveries before BYO sent
 * one value only carried two during a rotation). Constant time; a wrong length is just `false`.
 */
export function verifyByoSignature(secret: string, rawBody: string | Buffer, header: string | null | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(byoSignature(secret, rawBody), 'utf8');
  return header.split(',').some((candidate) => {
    const got = Buffer.from(candidate.trim(), 'utf8');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
