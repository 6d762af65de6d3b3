import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 60_000 });
import { createEndpoint } from '../../src/webhooks/endpoints.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { bothValid, expectEventSchema, Receiver, type Received, verifyWithNodeSnippet, verifyWithStandardWebhooks } from './receiver.js';

let server: TestServer;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  server = await startTestServer({
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    BYO_WEBHOOK_SCHEDULE: '0,100ms,200ms,400ms',
    BYO_WEBHOOK_POLL_INTERVAL: '50ms',
    BYO_WEBHOOK_TIMEOUT: '2s',
  });
}, 180_000);
afterAll(async () => {
  await server?.close();
  await receiver.stop();
});

/** A project with one test-mode endpoint on its own receiver path. */
async function setup(opts: { events?: string[]; path?: string } = {}) {
  const p = await server.createProject();
  const path = opts.path ?? `/${p.id}`;
  const res = await server.request('POST', '/v1/webhooks/endpoints', {
    key: p.skTest,
    body: { url: `${receiver.url}${path}`, ...(opts.events ? { events: opts.events } : {}) },
  });
  expect(res.status, res.text).toBe(200);
  return { p, endpoint: res.body as { id: string; secret: string }, secret: res.body.secret as string, path };
}

const at = (path: string) => receiver.received.filter((r) => r.path === path);
const connect = (p: TestProject, refId: string, providerKey = 'sk-byo-test-valid') =>
  server.request('POST', '/v1/keys/connect', { key: p.skTest, body: { provider: 'openai', refId, providerKey } });

describe('webhook endpoints API', () => {
  it('returns the whsec_ secret at creation only, and stores it encrypted', async () => {
    const { p, endpoint, secret } = await setup();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    const other = await setup();
    expect(other.secret).not.toBe(secret);

    const got = await server.request('GET', `/v1/webhooks/endpoints/${endpoint.id}`, { key: p.skTest });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ id: endpoint.id, mode: 'test', enabled: true, events: ['*'] });
    const list = await server.request('GET', '/v1/webhooks/endpoints', { key: p.skTest });
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([endpoint.id]);
    for (const text of [got.text, list.text]) {
      expect(text).not.toContain('whsec_');
      expect(text).not.toContain('secret"');
    }
    const rows = await server.app.services.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpoint.id).execute();
    const dump = JSON.stringify(rows, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v));
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(6));
    expect(server.logs.join('')).not.toContain(secret.slice(6));
  });

  it('keeps modes apart and refuses publishable keys', async () => {
    const { p, endpoint } = await setup();
    const live = await server.request('GET', `/v1/webhooks/endpoints/${endpoint.id}`, { key: p.skLive });
    expect(live.status).toBe(404);
    expect(live.body.code).toBe('endpoint_not_found');
    const pk = await server.request('GET', '/v1/webhooks/endpoints', { key: p.pkTest });
    expect(pk.status).toBe(403);
    expect(pk.body.code).toBe('permission_denied');
  });

  it('refuses URLs the SSRF policy does not allow', async () => {
    const p = await server.createProject();
    for (const url of ['http://10.0.0.8/hook', 'https://169.254.169.254/latest', 'https://user:pw@example.com/x', 'ftp://example.com/']) {
      const res = await server.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url } });
      expect(res.status, url).toBe(400);
      expect(['invalid_base_url', 'validation_failed'], url).toContain(res.body.code);
    }
  });

  it('requires https in live mode unless the operator allows http; test mode may use http', async () => {
    const p = await server.createProject();
    const project = await server.app.services.db.selectFrom('projects').selectAll().where('id', '=', p.id).executeTakeFirstOrThrow();
    // The same services with the operator's default: no BYO_ALLOW_HTTP_UPSTREAMS.
    const strict = { ...server.app.services, config: { ...server.app.services.config, BYO_ALLOW_HTTP_UPSTREAMS: false } };
    const who = { actor: 'test' };
    const input = { url: 'http://93.184.216.34/hook', events: ['*'], enabled: true };
    await expect(createEndpoint(strict, { project, mode: 'live' }, who, input)).rejects.toMatchObject({
      code: 'invalid_base_url',
      message: expect.stringMatching(/https/),
    });
    const live = await createEndpoint(strict, { project, mode: 'live' }, who, { ...input, url: 'https://93.184.216.34/hook' });
    expect(live).toMatchObject({ mode: 'live', url: 'https://93.184.216.34/hook' });
    const test = await createEndpoint(strict, { project, mode: 'test' }, who, input);
    expect(test).toMatchObject({ mode: 'test', url: 'http://93.184.216.34/hook' });
  });

  it('updates, disables and deletes', async () => {
    const { p, endpoint } = await setup();
    const upd = await server.request('PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, {
      key: p.skTest,
      body: { events: ['key.revoked'], description: 'billing', enabled: false },
    });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toMatchObject({ events: ['key.revoked'], description: 'billing', enabled: false });
    expect(upd.body.disabledReason).toBeTruthy();
    const on = await server.request('PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { key: p.skTest, body: { enabled: true } });
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null });
    const del = await server.request('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`, { key: p.skTest });
    expect(del.status, del.text).toBe(200);
    expect(del.body).toEqual({ id: endpoint.id, deleted: true });
    const gone = await server.request('GET', `/v1/webhooks/endpoints/${endpoint.id}`, { key: p.skTest });
    expect(gone.status).toBe(404);
  });
});

describe('key events, each from its real cause, with both signatures valid', () => {
  it('key.connected (connect) and key.revoked (revoke)', async () => {
    const { p, secret, path } = await setup();
    expect((await connect(p, 'cust_a')).status).toBe(200);
    await receiver.waitFor(() => at(path).some((r) => r.body.type === 'key.connected'), 20_000, 'key.connected');
    const rev = await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'cust_a' } });
    expect(rev.status, rev.text).toBe(200);
    await receiver.waitFor(() => at(path).some((r) => r.body.type === 'key.revoked'), 20_000, 'key.revoked');
    const [c, r] = [
      at(path).find((x) => x.body.type === 'key.connected'),
      at(path).find((x) => x.body.type === 'key.revoked'),
    ] as Received[];
    for (const d of [c, r] as Received[]) {
      expect(bothValid(secret, d)).toBe(true);
      expectEventSchema(d);
      expect(d.body).toMatchObject({ mode: 'test', data: { provider: 'openai', refId: 'cust_a', keyHint: 'sk-...alid' } });
      expect(d.body.id).toMatch(/^evt_/);
      expect(d.headers['webhook-id']).toBe(d.body.id);
      expect(d.headers['x-byo-event-id']).toBe(d.body.id);
      expect(d.headers['x-byo-timestamp']).toBe(d.headers['webhook-timestamp']);
      expect(d.headers['x-byo-signature']).toMatch(/^[0-9a-f]{64}$/);
      expect(d.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Object.keys(d.body).sort()).toEqual(['createdAt', 'data', 'id', 'mode', 'type']);
      expect(d.rawBody.toString()).not.toContain('sk-byo-test-valid');
    }
  });

  it('key.validation_failed (validate-on-connect refuses the key)', async () => {
    const { p, secret, path } = await setup();
    const patch = await server.request('PATCH', `/v1/admin/projects/${p.id}`, {
      key: server.adminToken,
      body: { validateOnConnect: true },
    });
    expect(patch.status, patch.text).toBe(200);
    const res = await connect(p, 'cust_v', 'sk-byo-test-invalid');
    expect(res.status, res.text).toBe(422);
    await receiver.waitFor(() => at(path).some((r) => r.body.type === 'key.validation_failed'), 20_000, 'key.validation_failed');
    const d = at(path).find((r) => r.body.type === 'key.validation_failed') as Received;
    expect(bothValid(secret, d)).toBe(true);
    expectEventSchema(d);
    expect(d.body.data).toMatchObject({ provider: 'openai', refId: 'cust_v', keyHint: 'sk-...alid' });
    // Thin payload: metadata and a reason, never key material.
    expect(Object.keys(d.body.data).sort()).toEqual(['keyHint', 'provider', 'reason', 'refId']);
  });

  it('key.disabled (validation finds the stored key rejected by the provider)', async () => {
    const { p, secret, path } = await setup();
    expect((await connect(p, 'cust_d', 'sk-byo-test-invalid')).status).toBe(200);
    const v = await server.request('POST', '/v1/keys/validate', { key: p.skTest, body: { provider: 'openai', refId: 'cust_d' } });
    expect(v.body, v.text).toMatchObject({ valid: false, result: 'invalid', key: { status: 'disabled' } });
    await receiver.waitFor(() => at(path).some((r) => r.body.type === 'key.disabled'), 20_000, 'key.disabled');
    const d = at(path).find((r) => r.body.type === 'key.disabled') as Received;
    expect(bothValid(secret, d)).toBe(true);
    expectEventSchema(d);
    expect(d.body.data).toMatchObject({ provider: 'openai', refId: 'cust_d' });
    expect(typeof d.body.data.reason).toBe('string');
  });

  it('key.disabled (the provider answers 401 to a proxied call)', async () => {
    const { p, secret, path } = await setup();
    // The provider: an OpenAI-compatible server on 127.0.0.1 that rejects the key.
    const provider = await new Receiver().start();
    provider.respond = () => ({
      status: 401,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }),
    });
    try {
      const c = await server.request('POST', '/v1/keys/connect', {
        key: p.skTest,
        body: {
          provider: 'openai',
          refId: 'cust_p',
          providerKey: 'sk-proj-deleted-at-the-provider-0000',
          providerConfig: { baseUrl: `${provider.url}/v1` },
        },
      });
      expect(c.status, c.text).toBe(200);
      const call = await server.request('POST', '/v1/proxy/openai/chat/completions', {
        key: p.skTest,
        headers: { 'x-byo-ref-id': 'cust_p' },
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(call.status, call.text).toBe(401);
      expect(provider.received).toHaveLength(1);
      expect(provider.received[0]?.headers.authorization).toBe('Bearer sk-proj-deleted-at-the-provider-0000');
      await receiver.waitFor(() => at(path).some((r) => r.body.type === 'key.disabled'), 20_000, 'key.disabled');
    } finally {
      await provider.stop();
    }
    const d = at(path).find((r) => r.body.type === 'key.disabled') as Received;
    expect(bothValid(secret, d)).toBe(true);
    expectEventSchema(d);
    expect(d.body.data).toMatchObject({ provider: 'openai', refId: 'cust_p', keyHint: 'sk-proj-...0000' });
    expect(String(d.body.data.reason)).toMatch(/401/);
    expect(d.rawBody.toString()).not.toContain('deleted-at-the-provider');
  });

  it('delivers only the events an endpoint subscribed to, and only of its mode', async () => {
    const { p, path } = await setup({ events: ['key.revoked'] });
    const livePath = `/${p.id}-live`;
    const live = await server.request('POST', '/v1/webhooks/endpoints', { key: p.skLive, body: { url: `${receiver.url}${livePath}` } });
    expect(live.status, live.text).toBe(200);
    await connect(p, 'cust_f');
    await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'cust_f' } });
    await receiver.waitFor(() => at(path).length >= 1, 20_000, 'key.revoked');
    await new Promise((r) => setTimeout(r, 300));
    expect(at(path).map((r) => r.body.type)).toEqual(['key.revoked']);
    expect(at(livePath)).toHaveLength(0);
  });
});

describe('delivery outcomes', () => {
  it('retries a 500 and is accepted once, with the same event id', async () => {
    const { p, secret, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path && at(path).length === 1 ? { status: 500, body: 'boom' } : prev(r, n));
    try {
      await connect(p, 'cust_r');
      await receiver.waitFor(() => at(path).length >= 2, 20_000, 'retry');
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      receiver.respond = prev;
    }
    const got = at(path);
    expect(got).toHaveLength(2);
    expect(got[0]?.body.id).toBe(got[1]?.body.id);
    expect(got[0]?.rawBody.equals(got[1]?.rawBody as Buffer)).toBe(true);
    for (const r of got) expect(bothValid(secret, r)).toBe(true);
    const list = await server.request('GET', `/v1/webhooks/deliveries?eventType=key.connected`, { key: p.skTest });
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200, eventId: got[0]?.body.id });
  });

  it('marks a delivery failed when the schedule runs out, and redelivers it on request', async () => {
    const { p, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 503, body: 'down' } : prev(r, n));
    let deliveryId: string;
    try {
      await connect(p, 'cust_x');
      await receiver.waitFor(() => at(path).length >= 4, 20_000, '4 attempts');
      await waitForDelivery(p, (d) => d.status === 'failed');
      await new Promise((r) => setTimeout(r, 300));
      expect(at(path)).toHaveLength(4);
      const list = await server.request('GET', '/v1/webhooks/deliveries?status=failed', { key: p.skTest });
      expect(list.body.data).toHaveLength(1);
      expect(list.body.data[0]).toMatchObject({
        status: 'failed',
        attempts: 4,
        lastStatusCode: 503,
        lastResponse: 'down',
        nextAttemptAt: null,
      });
      deliveryId = list.body.data[0].id;
    } finally {
      receiver.respond = prev;
    }
    const red = await server.request('POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`, { key: p.skTest });
    expect(red.status, red.text).toBe(200);
    expect(red.body).toMatchObject({ id: deliveryId, status: 'pending', attempts: 0 });
    await receiver.waitFor(() => at(path).length >= 5, 20_000, 'redelivery');
    expect(at(path)[4]?.body.id).toBe(at(path)[0]?.body.id);
    const d = await waitForDelivery(p, (x) => x.status === 'succeeded');
    expect(d).toMatchObject({ id: deliveryId, attempts: 1, lastStatusCode: 200 });
    const other = await server.createProject();
    const foreign = await server.request('POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`, { key: other.skTest });
    expect(foreign.status).toBe(404);
  });

  it('disables the endpoint on 410 Gone, with an audit entry', async () => {
    const { p, endpoint, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 410 } : prev(r, n));
    try {
      await connect(p, 'cust_g');
      await receiver.waitFor(() => at(path).length >= 1, 20_000, 'first attempt');
      const ep = await waitForEndpoint(p, endpoint.id, (e) => e.enabled === false);
      expect(ep.disabledReason).toMatch(/410/);
      await connect(p, 'cust_g2');
      await new Promise((r) => setTimeout(r, 400));
      expect(at(path)).toHaveLength(1);
    } finally {
      receiver.respond = prev;
    }
    const audit = await server.request('GET', `/v1/admin/audit?projectId=${p.id}&action=webhook_endpoint.disabled`, {
      key: server.adminToken,
    });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ actor: 'system', target: endpoint.id });
  });

  it('disables an endpoint that has been failing longer than BYO_WEBHOOK_DISABLE_AFTER (5 days)', async () => {
    const { p, endpoint, path } = await setup();
    // The failure streak started 5 days and a minute ago (as if the clock had moved on).
    await server.app.services.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: new Date(Date.now() - 5 * 86_400_000 - 60_000) })
      .where('id', '=', endpoint.id)
      .execute();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 500 } : prev(r, n));
    try {
      await connect(p, 'cust_old');
      const ep = await waitForEndpoint(p, endpoint.id, (e) => e.enabled === false);
      expect(ep.disabledReason).toMatch(/failed since/);
    } finally {
      receiver.respond = prev;
    }
    expect(at(path)).toHaveLength(1);
    const d = await waitForDelivery(p, (x) => x.status === 'failed');
    expect(d.lastError).toBe('HTTP 500; endpoint disabled');
    const audit = await server.request('GET', `/v1/admin/audit?projectId=${p.id}&action=webhook_endpoint.disabled`, {
      key: server.adminToken,
    });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ actor: 'system', target: endpoint.id });
    // A healthy endpoint's streak is cleared by a success.
    const healthy = await setup();
    await server.app.services.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: new Date(Date.now() - 60_000) })
      .where('id', '=', healthy.endpoint.id)
      .execute();
    await connect(healthy.p, 'cust_ok');
    await waitForEndpoint(healthy.p, healthy.endpoint.id, (e) => e.failingSince === null && e.enabled === true);
  });

  it('counts a redirect as a failure and does not follow it', async () => {
    const second = await new Receiver().start();
    const { p, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 302, headers: { location: `${second.url}/stolen` } } : prev(r, n));
    try {
      await connect(p, 'cust_302');
      await receiver.waitFor(() => at(path).length >= 2, 20_000, 'retry after 302');
    } finally {
      receiver.respond = prev;
    }
    expect(second.received).toHaveLength(0);
    await second.stop();
    const list = await server.request('GET', '/v1/webhooks/deliveries', { key: p.skTest });
    expect(list.body.data[0].lastError ?? '').toMatch(/HTTP 302|redirect/);
  });

  it("honours the receiver's Retry-After", async () => {
    const { p, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path && at(path).length === 1 ? { status: 429, headers: { 'retry-after': '1' } } : prev(r, n));
    try {
      await connect(p, 'cust_429');
      await receiver.waitFor(() => at(path).length >= 2, 20_000, 'retry after 429');
    } finally {
      receiver.respond = prev;
    }
    const [a, b] = at(path) as [Received, Received];
    // The schedule alone would retry after ~100 ms.
    expect(b.at - a.at).toBeGreaterThanOrEqual(950);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets during the overlap, and with the new one only after it', async () => {
    const { p, endpoint, secret: oldSecret, path } = await setup();
    const rot = await server.request('POST', `/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`, { key: p.skTest, body: {} });
    expect(rot.status, rot.text).toBe(200);
    const newSecret = rot.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    const expires = Date.parse(rot.body.previousSecretExpiresAt);
    expect(expires - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3_600_000 + 5_000);
    expect(rot.body.endpoint.previousSecretExpiresAt).toBe(rot.body.previousSecretExpiresAt);

    await connect(p, 'cust_rot');
    await receiver.waitFor(() => at(path).length >= 1, 20_000, 'delivery during overlap');
    const during = at(path)[0] as Received;
    // X-BYO-Signature: the new secret only (one value, as the published check needs); the Standard Webhooks header: both.
    expect(String(during.headers['x-byo-signature'])).toMatch(/^[0-9a-f]{64}$/);
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(bothValid(newSecret, during)).toBe(true);
    expect(verifyWithNodeSnippet(oldSecret, during.rawBody, during.headers['x-byo-signature'])).toBe(false);
    expect(() => verifyWithStandardWebhooks(oldSecret, during)).not.toThrow();

    const rot2 = await server.request('POST', `/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`, {
      key: p.skTest,
      body: { overlapSeconds: 0 },
    });
    expect(rot2.body.previousSecretExpiresAt).toBeNull();
    const newest = rot2.body.secret as string;
    await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'cust_rot' } });
    await receiver.waitFor(() => at(path).length >= 2, 20_000, 'delivery after overlap');
    const after = at(path)[1] as Received;
    expect(bothValid(newest, after)).toBe(true);
    expect(bothValid(newSecret, after)).toBe(false);
    expect(bothValid(oldSecret, after)).toBe(false);
    expect(server.logs.join('')).not.toContain(newest.slice(6));
  });
});

describe('test event', () => {
  it('sends webhook.test now and answers with the result', async () => {
    const { p, endpoint, secret, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 200, body: `thanks ${'x'.repeat(5000)}` } : prev(r, n));
    let res: Awaited<ReturnType<TestServer['request']>>;
    try {
      res = await server.request('POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, { key: p.skTest });
    } finally {
      receiver.respond = prev;
    }
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ success: true, statusCode: 200, error: null });
    expect(res.body.latencyMs).toBeGreaterThanOrEqual(0);
    expect(res.body.responseBody.startsWith('thanks xxx')).toBe(true);
    expect(res.body.responseBody.length).toBeLessThanOrEqual(1024);
    expect(res.body.delivery).toMatchObject({ status: 'succeeded', attempts: 1, eventType: 'webhook.test', eventId: res.body.eventId });
    const got = at(path);
    expect(got).toHaveLength(1);
    expect(got[0]?.body).toMatchObject({ id: res.body.eventId, type: 'webhook.test', mode: 'test', data: { endpointId: endpoint.id } });
    expect(bothValid(secret, got[0] as Received)).toBe(true);
    expectEventSchema(got[0] as Received);
    expect(res.text).not.toContain('whsec_');
  });

  it('gives up on an endpoint slower than BYO_WEBHOOK_TIMEOUT', async () => {
    const { p, endpoint, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = async (r, n) => {
      if (r.path !== path) return prev(r, n);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      return { status: 200 };
    };
    try {
      const res = await server.request('POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, { key: p.skTest });
      expect(res.body).toMatchObject({ success: false, statusCode: null, error: 'timed out after 2000 ms' });
      expect(res.body.latencyMs).toBeGreaterThanOrEqual(1_900);
    } finally {
      receiver.respond = prev;
    }
  });

  it('reports a failing endpoint without retrying it', async () => {
    const { p, endpoint, path } = await setup();
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 500, body: 'nope' } : prev(r, n));
    try {
      const res = await server.request('POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, { key: p.skTest });
      expect(res.body).toMatchObject({
        success: false,
        statusCode: 500,
        responseBody: 'nope',
        delivery: { status: 'failed', attempts: 1 },
      });
      await new Promise((r) => setTimeout(r, 400));
      expect(at(path)).toHaveLength(1);
    } finally {
      receiver.respond = prev;
    }
    const closed = await server.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: 'http://127.0.0.1:1/nobody' } });
    const res = await server.request('POST', `/v1/webhooks/endpoints/${closed.body.id}/test`, { key: p.skTest });
    expect(res.body).toMatchObject({ success: false, statusCode: null });
    expect(res.body.error).toMatch(/refused/);
  });
});

describe('verification rejects forgeries', () => {
  it('fails on a tampered body, a wrong secret, a tampered timestamp and a stale replay', async () => {
    const { p, secret, path } = await setup();
    await connect(p, 'cust_v2');
    await receiver.waitFor(() => at(path).length >= 1, 20_000, 'delivery');
    const d = at(path)[0] as Received;
    expect(bothValid(secret, d)).toBe(true);

    const tampered = Buffer.from(d.rawBody.toString().replace('cust_v2', 'cust_v3'));
    expect(verifyWithNodeSnippet(secret, tampered, d.headers['x-byo-signature'])).toBe(false);
    expect(() => verifyWithStandardWebhooks(secret, { ...d, rawBody: tampered })).toThrow();
    const spaced = Buffer.from(JSON.stringify(JSON.parse(d.rawBody.toString()), null, 1));
    expect(verifyWithNodeSnippet(secret, spaced, d.headers['x-byo-signature'])).toBe(false);

    const { secret: wrong } = await setup();
    expect(bothValid(wrong, d)).toBe(false);
    expect(() => verifyWithStandardWebhooks(wrong, d)).toThrow(/signature/i);

    const moved = { ...d, headers: { ...d.headers, 'webhook-timestamp': String(Number(d.headers['webhook-timestamp']) + 1) } };
    expect(() => verifyWithStandardWebhooks(secret, moved)).toThrow(/signature/i);
    const otherId = { ...d, headers: { ...d.headers, 'webhook-id': 'evt_other' } };
    expect(() => verifyWithStandardWebhooks(secret, otherId)).toThrow(/signature/i);

    // The same captured delivery replayed 6 minutes later: too old (5-minute tolerance).
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 6 * 60_000);
      expect(() => verifyWithStandardWebhooks(secret, d)).toThrow(/too old/i);
    } finally {
      vi.useRealTimers();
    }
    expect(verifyWithNodeSnippet(secret, d.rawBody, 'abc')).toBe(false);
  });
});

describe('metrics', () => {
  it('exposes webhook attempts, latency, in-flight and pending counts', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const succeeded = Number(/byo_webhook_attempts_total\{outcome="succeeded"\} (\d+)/.exec(text)?.[1]);
    expect(succeeded).toBeGreaterThan(0);
    expect(Number(/byo_webhook_attempts_total\{outcome="failed"\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/byo_webhook_attempt_duration_seconds_bucket\{le="0.1",outcome="succeeded"\}/);
    expect(text).toMatch(/^byo_webhook_in_flight \d+$/m);
    expect(text).toMatch(/^byo_webhook_pending_deliveries \d+$/m);
  });
});

type DeliveryView = { id: string; status: string; attempts: number; [k: string]: unknown };
async function waitForDelivery(p: TestProject, pred: (d: DeliveryView) => boolean): Promise<DeliveryView> {
  const until = Date.now() + 20_000;
  for (;;) {
    const list = await server.request('GET', '/v1/webhooks/deliveries', { key: p.skTest });
    const d = (list.body.data as DeliveryView[]).find(pred);
    if (d) return d;
    if (Date.now() > until) throw new Error(`delivery state not reached: ${list.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function waitForEndpoint(p: TestProject, id: string, pred: (e: Record<string, unknown>) => boolean) {
  const until = Date.now() + 20_000;
  for (;;) {
    const res = await server.request('GET', `/v1/webhooks/endpoints/${id}`, { key: p.skTest });
    if (pred(res.body)) return res.body;
    if (Date.now() > until) throw new Error(`endpoint state not reached: ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
