import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BYOK, type CreatedWebhookEndpoint, WebhookVerificationError } from '../src/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let server: TestServer;
let byok: BYOK;
let endpoint: CreatedWebhookEndpoint;

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1' });
  const project = await server.createProject();
  byok = new BYOK({ apiKey: project.skTest, baseURL: server.url });
  endpoint = await byok.webhooks.endpoints.create({ url: receiverUrl, description: 'sdk test' });
});
afterAll(async () => {
  await server?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

/** Waits for a delivery whose body satisfies `pred`. */
async function delivery(pred: (body: { type: string; data: { refId?: string } }) => boolean, timeoutMs = 15_000): Promise<Received> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const hit = received.find((r) => pred(JSON.parse(r.raw.toString('utf8'))));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no such delivery arrived');
}

describe('webhook verification against real deliveries', () => {
  it('the secret is shown once, as whsec_', () => {
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect(endpoint.id).toBeTruthy();
  });

  it('key.connected, key.revoked and key.disabled (provider 401 during a proxied call) verify with the endpoint secret', async () => {
    await byok.keys.connect({ provider: 'openai', refId: 'wh_1', providerKey: 'sk-byo-test-valid' });
    const connected = await delivery((b) => b.type === 'key.connected' && b.data.refId === 'wh_1');
    const event = await byok.webhooks.verify(connected.raw, connected.headers, endpoint.secret);
    expect(event.type).toBe('key.connected');
    expect(event.id).toMatch(/^evt_/);
    if (event.type === 'key.connected') expect(event.data).toMatchObject({ provider: 'openai', refId: 'wh_1', keyHint: 'sk-...alid' });

    await byok.keys.revoke({ provider: 'openai', refId: 'wh_1' });
    const revoked = await delivery((b) => b.type === 'key.revoked' && b.data.refId === 'wh_1');
    expect((await BYOK.webhooks.verify(revoked.raw.toString('utf8'), revoked.headers, endpoint.secret)).type).toBe('key.revoked');

    await byok.keys.connect({ provider: 'anthropic', refId: 'wh_2', providerKey: 'sk-byo-test-invalid' });
    await byok
      .anthropic({ refId: 'wh_2' })
      .models.list()
      .catch(() => {});
    const disabled = await delivery((b) => b.type === 'key.disabled' && b.data.refId === 'wh_2');
    const ev = await byok.webhooks.verify(disabled.raw, disabled.headers, endpoint.secret);
    expect(ev.type).toBe('key.disabled');
  });

  it('each scheme alone verifies a real delivery (the body-only one when allowed), and a tampered one fails', async () => {
    const d = received[0]!;
    const { 'x-byo-signature': byo, 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } = d.headers;
    await expect(byok.webhooks.verify(d.raw, { 'x-byo-signature': byo }, endpoint.secret)).rejects.toMatchObject({
      code: 'body_only_signature',
    });
    expect(await byok.webhooks.verify(d.raw, { 'x-byo-signature': byo }, endpoint.secret, { allowBodyOnlySignature: true })).toBeTruthy();
    expect(
      await byok.webhooks.verify(d.raw, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }, endpoint.secret),
    ).toBeTruthy();
    const tampered = Buffer.from(d.raw.toString('utf8').replace('"mode":"test"', '"mode":"live"'));
    await expect(byok.webhooks.verify(tampered, d.headers, endpoint.secret)).rejects.toThrow(WebhookVerificationError);
  });

  it('endpoints.test sends a webhook.test event that verifies', async () => {
    const result = await byok.webhooks.endpoints.test(endpoint.id);
    expect(result).toMatchObject({ success: true, statusCode: 200 });
    const d = await delivery((b) => b.type === 'webhook.test');
    expect((await byok.webhooks.verify(d.raw, d.headers, endpoint.secret)).type).toBe('webhook.test');
  });

  it('after a secret rotation, deliveries verify with the new and the old secret', async () => {
    const rotated = await byok.webhooks.endpoints.rotateSecret(endpoint.id, { overlapSeconds: 3600 });
    expect(rotated.secret).not.toBe(endpoint.secret);
    await byok.keys.connect({ provider: 'google', refId: 'wh_3', providerKey: 'sk-byo-test-valid' });
    const d = await delivery((b) => b.type === 'key.connected' && b.data.refId === 'wh_3');
    expect(String(d.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect((await byok.webhooks.verify(d.raw, d.headers, rotated.secret)).type).toBe('key.connected');
    expect((await byok.webhooks.verify(d.raw, d.headers, endpoint.secret)).type).toBe('key.connected');
    await expect(byok.webhooks.verify(d.raw, d.headers, `whsec_${Buffer.alloc(32, 1).toString('base64')}`)).rejects.toThrow(
      /No signature matches/,
    );
  });

  it('lists deliveries and redelivers one with the same event id', async () => {
    const page = await byok.webhooks.deliveries.list({ endpointId: endpoint.id, eventType: 'key.connected' });
    expect(page.data.length).toBeGreaterThan(0);
    const first = page.data[0]!;
    const before = received.length;
    await byok.webhooks.deliveries.redeliver(first.id);
    const until = Date.now() + 15_000;
    while (received.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const again = received.at(-1)!;
    expect(again.headers['webhook-id']).toBe(first.eventId);
    const eps = [];
    for await (const ep of byok.webhooks.endpoints.list()) eps.push(ep.id);
    expect(eps).toContain(endpoint.id);
  });
});
