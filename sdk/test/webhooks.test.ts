import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  BYOK,
  type KeyEventData,
  type KeyRevokedEvent,
  type LimitEventLimit,
  type WebhookEvent,
  type WebhookEventType,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
  webhooks,
} from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const EVENT = {
  id: 'evt_123',
  type: 'key.connected',
  createdAt: '2026-01-01T00:00:00.000Z',
  mode: 'test',
  data: { provider: 'openai', refId: 'customer_123', keyHint: 'sk-...abcd' },
};
const BODY = JSON.stringify(EVENT);

const rejects = async (p: Promise<unknown>, msg: RegExp, code?: WebhookVerificationErrorCode) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  expect((err as Error).message).toMatch(msg);
  if (code) expect((err as WebhookVerificationError).code).toBe(code);
};
const BODY_ONLY = { allowBodyOnlySignature: true };
/** The headers minus the Standard Webhooks ones, as a proxy that strips them (or an attacker) leaves them. */
const withoutStandard = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('webhook-')));

describe('webhooks.verify', () => {
  it('verifies the Standard Webhooks reference vector', async () => {
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const body = '{"test": 2432232314}';
    // Not a BYO event, so the last step refuses it, after the signature and timestamp passed.
    await rejects(webhooks.verify(body, headers, SECRET, { currentTime: new Date(1614265330_000) }), /not a BYO event/);
    await rejects(
      webhooks.verify(body.replace('2', '3'), headers, SECRET, { currentTime: new Date(1614265330_000) }),
      /No signature matches/,
    );
  });

  it('verifies X-BYO-Signature (hex HMAC-SHA256 of the raw body keyed with the secret string) only when allowed', async () => {
    const sig = createHmac('sha256', SECRET).update(BODY).digest('hex');
    const headers = { 'X-BYO-Signature': sig, 'X-BYO-Event-Id': 'evt_123' };
    await rejects(webhooks.verify(BODY, headers, SECRET), /allowBodyOnlySignature: true/, 'body_only_signature');
    const event = await webhooks.verify(BODY, headers, SECRET, BODY_ONLY);
    expect(event).toEqual(EVENT);
    if (event.type === 'key.connected') expect(event.data.refId).toBe('customer_123');
  });

  it('accepts its own test headers, as a string, bytes, an ArrayBuffer, Headers or a plain object', async () => {
    const headers = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    expect(headers['webhook-id']).toBe('evt_123');
    const buf = Buffer.from(BODY);
    expect(await webhooks.verify(BODY, headers, SECRET)).toEqual(EVENT);
    expect(await webhooks.verify(buf, new Headers(headers), SECRET)).toEqual(EVENT);
    expect(await webhooks.verify(new TextEncoder().encode(BODY).buffer, headers, SECRET)).toEqual(EVENT);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await BYOK.webhooks.verify(BODY, upper, SECRET)).toEqual(EVENT);
  });

  it('interoperates with the standardwebhooks package in both directions', async () => {
    const wh = new Webhook(SECRET);
    const now = new Date();
    const sig = wh.sign('msg_1', now, BODY);
    expect(
      await webhooks.verify(
        BODY,
        { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': sig },
        SECRET,
      ),
    ).toEqual(EVENT);
    const ours = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    expect(wh.verify(BODY, ours)).toEqual(EVENT);
  });

  it('accepts any of several signatures during a secret rotation', async () => {
    const OLD = 'whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQ=';
    const both = await webhooks.generateTestHeaders({ payload: BODY, secret: [OLD, SECRET] });
    expect(both['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(both['x-byo-signature']?.split(',')).toHaveLength(2);
    expect(await webhooks.verify(BODY, both, SECRET)).toEqual(EVENT);
    expect(await webhooks.verify(BODY, both, OLD)).toEqual(EVENT);
    const { 'x-byo-signature': byo } = both;
    expect(await webhooks.verify(BODY, { 'x-byo-signature': byo }, SECRET, BODY_ONLY)).toEqual(EVENT);
    // A receiver may hold both secrets too.
    const onlyNew = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    expect(await webhooks.verify(BODY, onlyNew, [OLD, SECRET])).toEqual(EVENT);
  });

  it('rejects a tampered body', async () => {
    const headers = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    await rejects(webhooks.verify(BODY.replace('customer_123', 'customer_999'), headers, SECRET), /No signature matches.*raw body/);
    const { 'x-byo-signature': byo } = headers;
    await rejects(webhooks.verify(`${BODY} `, { 'x-byo-signature': byo }, SECRET, BODY_ONLY), /No signature matches/, 'signature_mismatch');
  });

  it('rejects the wrong secret', async () => {
    const headers = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    await rejects(webhooks.verify(BODY, headers, 'whsec_d3Jvbmctd3Jvbmctd3Jvbmc='), /none was made with the given secret/);
  });

  it('rejects a stale timestamp, and one from the future, with the tolerance in the message', async () => {
    const old = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET, timestamp: new Date(Date.now() - 600_000) });
    await rejects(webhooks.verify(BODY, old, SECRET), /Stale timestamp: .* 6\d\d s old \(tolerance 300 s\)/, 'timestamp_too_old');
    // The default tolerance is five minutes.
    const edge = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET, timestamp: new Date(Date.now() - 290_000) });
    expect(await webhooks.verify(BODY, edge, SECRET)).toEqual(EVENT);
    const past = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET, timestamp: new Date(Date.now() - 310_000) });
    await rejects(webhooks.verify(BODY, past, SECRET), /Stale timestamp/, 'timestamp_too_old');
    expect(await webhooks.verify(BODY, old, SECRET, { toleranceSeconds: 900 })).toEqual(EVENT);
    expect(await webhooks.verify(BODY, old, SECRET, { toleranceSeconds: Number.POSITIVE_INFINITY })).toEqual(EVENT);
    const future = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET, timestamp: new Date(Date.now() + 600_000) });
    await rejects(webhooks.verify(BODY, future, SECRET), /in the future/, 'timestamp_in_future');
  });

  it('does not fall back to X-BYO-Signature when the Standard Webhooks signature fails (no replay downgrade)', async () => {
    const old = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET, timestamp: new Date(Date.now() - 3_600_000) });
    await rejects(webhooks.verify(BODY, old, SECRET), /Stale timestamp/);
    await rejects(webhooks.verify(BODY, old, SECRET, BODY_ONLY), /Stale timestamp/, 'timestamp_too_old');
  });

  it('refuses by default a replayed delivery stripped of its webhook-* headers', async () => {
    // A delivery captured an hour ago: with its timestamp it is refused as stale...
    const captured = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET, timestamp: new Date(Date.now() - 3_600_000) });
    await rejects(webhooks.verify(BODY, captured, SECRET), /Stale timestamp/, 'timestamp_too_old');
    // ...and without it, only the body-only signature is left: refused too, saying how to opt in.
    const replay = withoutStandard(captured);
    expect(Object.keys(replay)).toContain('x-byo-signature');
    await rejects(
      webhooks.verify(BODY, replay, SECRET),
      /only X-BYO-Signature is present, which signs the body alone.*\{ allowBodyOnlySignature: true \}/,
      'body_only_signature',
    );
    await rejects(BYOK.webhooks.verify(Buffer.from(BODY), new Headers(replay), SECRET), /allowBodyOnlySignature/, 'body_only_signature');
    // Opting in accepts it (the caller then has to dedupe on the event id).
    expect(await webhooks.verify(BODY, replay, SECRET, BODY_ONLY)).toEqual(EVENT);
  });

  it("keeps the README's receiver working unchanged: raw Buffer, Node's lowercase req.headers, the secret", async () => {
    // What BYO sends (both header sets), as Node's http module hands them to a handler.
    const sent = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    const reqHeaders = { host: 'example.com', 'content-length': String(BODY.length), ...sent };
    const chunks = [Buffer.from(BODY.slice(0, 10)), Buffer.from(BODY.slice(10))];
    expect(await BYOK.webhooks.verify(Buffer.concat(chunks), reqHeaders, SECRET)).toEqual(EVENT);
  });

  it('says which header is missing', async () => {
    await rejects(
      webhooks.verify(BODY, {}, SECRET),
      /Missing signature headers: expected webhook-id, webhook-timestamp and webhook-signature/,
      'signature_headers_missing',
    );
    await rejects(
      webhooks.verify(BODY, { 'webhook-id': 'msg_1', 'webhook-signature': 'v1,abc' }, SECRET),
      /Missing header webhook-timestamp/,
      'invalid_signature_header',
    );
    await rejects(
      webhooks.verify(BODY, { 'webhook-id': 'm', 'webhook-timestamp': 'yesterday', 'webhook-signature': 'v1,abc' }, SECRET),
      /expected Unix time in seconds/,
    );
    await rejects(
      webhooks.verify(BODY, { 'webhook-id': 'm', 'webhook-timestamp': '1', 'webhook-signature': 'v1a,abc' }, SECRET),
      /no "v1,<base64>" signature/,
    );
    await rejects(
      webhooks.verify(BODY, { 'x-byo-signature': 'not-hex' }, SECRET, BODY_ONLY),
      /no hex HMAC-SHA256/,
      'invalid_signature_header',
    );
  });

  it('refuses parsed JSON instead of the raw body, and a missing secret', async () => {
    const headers = await webhooks.generateTestHeaders({ payload: BODY, secret: SECRET });
    await rejects(webhooks.verify(EVENT as never, headers, SECRET), /raw request body .* not parsed JSON/);
    await rejects(webhooks.verify(BODY, headers, ''), /No webhook secret given/);
    await rejects(webhooks.verify(BODY, headers, undefined as never), /No webhook secret given/);
  });

  it('checks the body is a BYO event', async () => {
    const headers = await webhooks.generateTestHeaders({ payload: 'not json', secret: SECRET, id: 'msg_1' });
    await rejects(webhooks.verify('not json', headers, SECRET), /body is not JSON/);
  });
});

describe("event types (generated from the server's event schemas)", () => {
  // The expectTypeOf lines are checked by the package's typecheck, which includes test/.
  it('say what the server sends: keyHint may be null, data narrows by type', async () => {
    expectTypeOf<KeyEventData['keyHint']>().toEqualTypeOf<string | null>();
    expectTypeOf<LimitEventLimit['provider']>().toEqualTypeOf<KeyEventData['provider'] | null>();
    expectTypeOf<'limit.warning' | 'limit.exceeded' | 'webhook.test'>().toExtend<WebhookEventType>();
    const revoked: KeyRevokedEvent = {
      ...EVENT,
      type: 'key.revoked',
      mode: 'live',
      data: { ...EVENT.data, provider: 'openai', keyHint: null },
    };
    const body = JSON.stringify(revoked);
    const event: WebhookEvent = await webhooks.verify(body, await webhooks.generateTestHeaders({ payload: body, secret: SECRET }), SECRET);
    expect(event).toEqual(revoked);
    if (event.type === 'limit.exceeded') expectTypeOf(event.data.requested).toEqualTypeOf<number>();
    if (event.type === 'key.connected') expectTypeOf(event.data.by).toEqualTypeOf<'secret_key' | 'publishable_key' | 'connect_token'>();
  });
});
