import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { bothValid, Receiver, type Received } from './receiver.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * `Idempotency-Key` on the secret-key writes a retry would repeat: webhook endpoint create,
 * rotate-secret, redeliver, and connect-token create. Same key and body: the stored response is
 * replayed and nothing happens twice; same key, another body: 409 idempotency_conflict.
 */

let server: TestServer;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  server = await startTestServer({
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    BYO_WEBHOOK_SCHEDULE: '0,100ms,200ms',
    BYO_WEBHOOK_POLL_INTERVAL: '50ms',
    BYO_WEBHOOK_TIMEOUT: '2s',
  });
}, 180_000);
afterAll(async () => {
  await server?.close();
  await receiver.stop();
});

const post = (p: TestProject, path: string, body: unknown, idem?: string) =>
  server.request('POST', path, { key: p.skTest, body, ...(idem ? { headers: { 'idempotency-key': idem } } : {}) });

async function auditCount(p: TestProject, action: string): Promise<number> {
  const res = await server.request('GET', `/v1/admin/audit?projectId=${p.id}&action=${action}&limit=500`, { key: server.adminToken });
  expect(res.status, res.text).toBe(200);
  return res.body.data.length;
}

/** Every stored idempotency row of a project, as text: no secret may appear in it. */
async function storedResponses(p: TestProject): Promise<string> {
  const rows = await server.app.services.db.selectFrom('idempotency_keys').selectAll().where('project_id', '=', p.id).execute();
  return JSON.stringify(rows);
}

describe('Idempotency-Key on webhook and connect-token writes', () => {
  it('endpoint create: a retry replays the response (same id, same secret) and creates nothing', async () => {
    const p = await server.createProject();
    const body = { url: `${receiver.url}/idem-${p.id}`, description: 'retry me' };
    const first = await post(p, '/v1/webhooks/endpoints', body, 'create-1');
    expect(first.status, first.text).toBe(200);
    const again = await post(p, '/v1/webhooks/endpoints', body, 'create-1');
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.body.secret).toMatch(/^whsec_/);
    const list = await server.request('GET', '/v1/webhooks/endpoints', { key: p.skTest });
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([first.body.id]);
    expect(await auditCount(p, 'webhook_endpoint.created')).toBe(1);

    // The replayed secret is the endpoint's: a test delivery verifies with it.
    const t = await post(p, `/v1/webhooks/endpoints/${first.body.id}/test`, {});
    expect(t.body.success, t.text).toBe(true);
    const got = receiver.received.filter((r) => r.path === `/idem-${p.id}`);
    expect(bothValid(again.body.secret, got[0] as Received)).toBe(true);

    // The stored copy keeps the secret sealed.
    const stored = await storedResponses(p);
    expect(stored).toContain(first.body.id);
    expect(stored).not.toContain(first.body.secret);
    expect(stored).not.toContain(first.body.secret.slice(6));

    const other = await post(p, '/v1/webhooks/endpoints', { ...body, description: 'another' }, 'create-1');
    expect(other.status, other.text).toBe(409);
    expect(other.body).toMatchObject({ code: 'idempotency_conflict' });
    // Without a key, each call is a new endpoint.
    expect((await post(p, '/v1/webhooks/endpoints', body)).status).toBe(200);
    expect((await post(p, '/v1/webhooks/endpoints', body)).status).toBe(200);
    expect(await auditCount(p, 'webhook_endpoint.created')).toBe(3);
  });

  it('rotate-secret: a retry returns the same new secret and rotates once', async () => {
    const p = await server.createProject();
    const ep = await post(p, '/v1/webhooks/endpoints', { url: `${receiver.url}/rot-${p.id}` });
    const path = `/v1/webhooks/endpoints/${ep.body.id}/rotate-secret`;
    const first = await post(p, path, { overlapSeconds: 0 }, 'rotate-1');
    expect(first.status, first.text).toBe(200);
    const again = await post(p, path, { overlapSeconds: 0 }, 'rotate-1');
    expect(again.body).toEqual(first.body);
    expect(await auditCount(p, 'webhook_endpoint.secret_rotated')).toBe(1);
    // Had the retry rotated again, the returned secret would no longer sign (overlap 0).
    const t = await post(p, `/v1/webhooks/endpoints/${ep.body.id}/test`, {});
    expect(t.body.success, t.text).toBe(true);
    const got = receiver.received.filter((r) => r.path === `/rot-${p.id}`);
    expect(bothValid(again.body.secret, got[got.length - 1] as Received)).toBe(true);
    expect(await storedResponses(p)).not.toContain(first.body.secret.slice(6));

    const conflict = await post(p, path, { overlapSeconds: 60 }, 'rotate-1');
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('idempotency_conflict');
  });

  it('redeliver: a retry replays the response and queues the delivery once', async () => {
    const p = await server.createProject();
    const ep = await post(p, '/v1/webhooks/endpoints', { url: `${receiver.url}/redeliver-${p.id}` });
    const t = await post(p, `/v1/webhooks/endpoints/${ep.body.id}/test`, {});
    expect(t.body.success, t.text).toBe(true);
    const path = `/v1/webhooks/deliveries/${t.body.delivery.id}/redeliver`;
    const first = await post(p, path, {}, 'redeliver-1');
    expect(first.status, first.text).toBe(200);
    const again = await post(p, path, {}, 'redeliver-1');
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await auditCount(p, 'webhook_delivery.redelivered')).toBe(1);
    await receiver.waitFor(() => receiver.received.filter((r) => r.path === `/redeliver-${p.id}`).length >= 2, 10_000, 'the redelivery');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.filter((r) => r.path === `/redeliver-${p.id}`)).toHaveLength(2);

    // The same key on another operation is a conflict too.
    const elsewhere = await post(p, '/v1/webhooks/endpoints', { url: `${receiver.url}/x` }, 'redeliver-1');
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.code).toBe('idempotency_conflict');
  });

  it('connect-token create: a retry returns the same token, stored sealed', async () => {
    const p = await server.createProject();
    const body = { refId: 'cust_1', providers: ['openai'] };
    const first = await post(p, '/v1/connect-tokens', body, 'token-1');
    expect(first.status, first.text).toBe(200);
    expect(first.body.token).toMatch(/^byo_ct_/);
    const again = await post(p, '/v1/connect-tokens', body, 'token-1');
    expect(again.body).toEqual(first.body);
    expect(await auditCount(p, 'connect_token.created')).toBe(1);
    expect(await storedResponses(p)).not.toContain(first.body.token.slice(7));
    const rows = await server.app.services.db.selectFrom('connect_tokens').select('id').where('project_id', '=', p.id).execute();
    expect(rows).toHaveLength(1);

    const conflict = await post(p, '/v1/connect-tokens', { ...body, refId: 'cust_2' }, 'token-1');
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('idempotency_conflict');
    // Keys are per project and mode: the live key's namespace does not see this one.
    const live = await server.request('POST', '/v1/connect-tokens', {
      key: p.skLive,
      body,
      headers: { 'idempotency-key': 'token-1' },
    });
    expect(live.status, live.text).toBe(200);
    expect(live.body.token).not.toBe(first.body.token);
  });
});
