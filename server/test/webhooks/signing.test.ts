import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { nextDelayMs } from '../../src/webhooks/retry-schedule.js';
import { parseRetryAfter } from '../../src/webhooks/sender.js';
import { generateWebhookSecret, signDelivery, standardKey, verifyByoSignature } from '../../src/webhooks/signing.js';
import { verifyWithNodeSnippet } from './receiver.js';

const now = () => Math.floor(Date.now() / 1000);
const verifyStd = (secret: string, body: string, headers: Record<string, string>) => new Webhook(secret).verify(body, headers);

describe('webhook signatures', () => {
  it('secrets are whsec_ + base64 of 32 random bytes, decoded the way standardwebhooks decodes them', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(standardKey(a)).toHaveLength(32);
  });

  it('every signed body verifies with the Node snippet and with standardwebhooks', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.stringMatching(/^evt_[A-Za-z0-9]{1,30}$/), (text, id) => {
        const secret = generateWebhookSecret();
        const body = JSON.stringify({ id, type: 'key.connected', data: { text } });
        const h = signDelivery([secret], id, now(), body);
        expect(verifyWithNodeSnippet(secret, Buffer.from(body), h['x-byo-signature'])).toBe(true);
        expect(verifyByoSignature(secret, body, h['x-byo-signature'])).toBe(true);
        expect(verifyStd(secret, body, { ...h })).toEqual(JSON.parse(body));
      }),
      { numRuns: 200 },
    );
  });

  it('any change to body, id or timestamp, or another secret, fails both checks', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.nat({ max: 10_000 }),
        fc.constantFrom('body', 'id', 'timestamp', 'secret'),
        (text, pos, what) => {
          const secret = generateWebhookSecret();
          const id = 'evt_abc';
          const ts = now();
          const body = JSON.stringify({ id, data: { text } });
          const h = signDelivery([secret], id, ts, body);
          let checkBody = body;
          let checkSecret = secret;
          const headers: Record<string, string> = { ...h };
          if (what === 'body') {
            const i = pos % body.length;
            checkBody = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1);
          } else if (what === 'id') headers['webhook-id'] = 'evt_abd';
          else if (what === 'timestamp') headers['webhook-timestamp'] = String(ts - 1 - (pos % 200));
          else checkSecret = generateWebhookSecret();
          expect(() => verifyStd(checkSecret, checkBody, headers)).toThrow();
          if (what === 'body' || what === 'secret') {
            expect(verifyWithNodeSnippet(checkSecret, Buffer.from(checkBody), headers['x-byo-signature'])).toBe(false);
            expect(verifyByoSignature(checkSecret, checkBody, headers['x-byo-signature'])).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("during a rotation overlap, X-BYO-Signature is the new secret's alone (the published check compares the whole header); webhook-signature carries both", () => {
    const [oldS, newS] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = '{"id":"evt_1"}';
    const h = signDelivery([newS, oldS], 'evt_1', now(), body);
    expect(h['x-byo-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(h['x-byo-signature']).toBe(createHmac('sha256', newS).update(body).digest('hex'));
    expect(verifyWithNodeSnippet(oldS, Buffer.from(body), h['x-byo-signature'])).toBe(false);
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of [oldS, newS]) expect(() => verifyStd(s, body, { ...h })).not.toThrow();
    expect(() => verifyStd(generateWebhookSecret(), body, { ...h })).toThrow();
  });

  it('a signature of the wrong length is false, not an exception', () => {
    const s = generateWebhookSecret();
    for (const bad of ['', 'abc', 'x'.repeat(65), '🙂'.repeat(32), ',,,']) expect(verifyByoSignature(s, '{}', bad)).toBe(false);
    expect(verifyByoSignature(s, '{}', undefined)).toBe(false);
  });
});

describe('retry timing', () => {
  const schedule = [0, 5_000, 300_000, 1_800_000];
  it('follows the schedule with ±20 % jitter, then stops', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (attempts, r) => {
        const d = nextDelayMs(schedule, attempts, null, () => r) as number;
        const base = schedule[attempts] as number;
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2));
      }),
    );
    expect(nextDelayMs(schedule, 4, null)).toBeNull();
  });

  it('waits at least as long as Retry-After asks (capped at a day)', () => {
    expect(nextDelayMs(schedule, 1, 120, () => 0.5)).toBe(120_000);
    expect(nextDelayMs(schedule, 3, 1, () => 0.5)).toBe(1_800_000);
    expect(nextDelayMs(schedule, 1, 10 * 86_400, () => 0.5)).toBe(86_400_000);
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThanOrEqual(58);
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
