import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { EVENT_TYPES } from '../../src/schemas/events.js';
import { bothValid, expectEventSchema, Receiver, type Received } from './receiver.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * POST /v1/webhooks/endpoints/{id}/test with `event`: a sample event of that type, shaped like
 * the real one (same top-level fields, same `data` fields), signed as every delivery.
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

const at = (path: string) => receiver.received.filter((r) => r.path === path);

async function endpoint(p: TestProject, path: string, events?: string[]) {
  const res = await server.request('POST', '/v1/webhooks/endpoints', {
    key: p.skTest,
    body: { url: `${receiver.url}${path}`, ...(events ? { events } : {}) },
  });
  expect(res.status, res.text).toBe(200);
  return { id: res.body.id as string, secret: res.body.secret as string };
}

const testEvent = (p: TestProject, id: string, body?: unknown) =>
  server.request('POST', `/v1/webhooks/endpoints/${id}/test`, { key: p.skTest, ...(body === undefined ? {} : { body }) });

describe('webhook test with an event type', () => {
  it('sends each key event type as a signed sample with the data fields of the real event', async () => {
    const p = await server.createProject();
    const path = `/real-${p.id}`;
    const ep = await endpoint(p, path);

    // The real events, each from its real cause, to learn their exact shape.
    const connect = (refId: string, providerKey: string) =>
      server.request('POST', '/v1/keys/connect', { key: p.skTest, body: { provider: 'openai', refId, providerKey } });
    expect((await connect('cust_a', 'sk-byo-test-valid')).status).toBe(200);
    expect((await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'cust_a' } })).status).toBe(
      200,
    );
    expect((await connect('cust_d', 'sk-byo-test-invalid')).status).toBe(200);
    await server.request('POST', '/v1/keys/validate', { key: p.skTest, body: { provider: 'openai', refId: 'cust_d' } });
    await server.request('PATCH', `/v1/admin/projects/${p.id}`, { key: server.adminToken, body: { validateOnConnect: true } });
    expect((await connect('cust_v', 'sk-byo-test-invalid')).status).toBe(422);
    const types = ['key.connected', 'key.revoked', 'key.disabled', 'key.validation_failed'] as const;
    await receiver.waitFor(() => types.every((t) => at(path).some((r) => r.body.type === t)), 20_000, 'the four real events');
    const real = Object.fromEntries(types.map((t) => [t, at(path).find((r) => r.body.type === t) as Received]));

    for (const type of types) {
      const before = at(path).length;
      const res = await testEvent(p, ep.id, { event: type });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ success: true, statusCode: 200, error: null });
      expect(res.body.delivery).toMatchObject({ eventType: type, status: 'succeeded', attempts: 1, eventId: res.body.eventId });
      const got = at(path).slice(before);
      expect(got, type).toHaveLength(1);
      const sample = got[0] as Received;
      expect(sample.body.id).toBe(res.body.eventId);
      expect(sample.body).toMatchObject({ type, mode: 'test', data: { provider: 'openai', refId: 'ref_test', keyHint: 'sk-...test' } });
      expect(Object.keys(sample.body).sort()).toEqual(Object.keys(real[type]?.body ?? {}).sort());
      expect(Object.keys(sample.body.data).sort(), type).toEqual(Object.keys(real[type]?.body.data ?? {}).sort());
      for (const [k, v] of Object.entries(real[type]?.body.data ?? {})) expect(typeof sample.body.data[k], `${type} ${k}`).toBe(typeof v);
      expect(bothValid(ep.secret, sample)).toBe(true);
      expect(sample.headers['webhook-id']).toBe(sample.body.id);
      expectEventSchema(real[type] as Received);
      expectEventSchema(sample);
    }
    // Samples change nothing: no key was stored for ref_test.
    const key = await server.request('GET', '/v1/keys/openai/ref_test', { key: p.skTest });
    expect(key.status).toBe(404);
  });

  it('sends a sample of every event type, each valid against its event schema', async () => {
    const p = await server.createProject();
    const path = `/all-${p.id}`;
    const ep = await endpoint(p, path);
    for (const type of EVENT_TYPES) {
      const res = await testEvent(p, ep.id, { event: type });
      expect(res.body, type).toMatchObject({ success: true, delivery: { eventType: type } });
    }
    const got = at(path);
    expect(got.map((r) => r.body.type)).toEqual([...EVENT_TYPES]);
    for (const r of got) expectEventSchema(r);
  });

  it('defaults to webhook.test (no body, or an empty one) and ignores the endpoint filter', async () => {
    const p = await server.createProject();
    const path = `/filtered-${p.id}`;
    const ep = await endpoint(p, path, ['key.revoked']);
    for (const body of [undefined, {}]) {
      const res = await testEvent(p, ep.id, body);
      expect(res.status, res.text).toBe(200);
      expect(res.body.delivery.eventType).toBe('webhook.test');
    }
    const dis = await testEvent(p, ep.id, { event: 'key.disabled' });
    expect(dis.body).toMatchObject({ success: true, delivery: { eventType: 'key.disabled' } });
    const got = at(path);
    expect(got.map((r) => r.body.type)).toEqual(['webhook.test', 'webhook.test', 'key.disabled']);
    expect(got[0]?.body.data).toEqual({ endpointId: ep.id, message: 'A test event sent from BYO.' });
    expect(typeof got[2]?.body.data.reason).toBe('string');
    for (const r of got) expect(bothValid(ep.secret, r)).toBe(true);
    // The delivery log can be filtered by the sample's type.
    const log = await server.request('GET', `/v1/webhooks/deliveries?endpointId=${ep.id}&eventType=key.disabled`, { key: p.skTest });
    expect(log.body.data.map((d: { eventId: string }) => d.eventId)).toEqual([dis.body.eventId]);
  });

  it('refuses an unknown event type with 400 validation_failed', async () => {
    const p = await server.createProject();
    const ep = await endpoint(p, `/bad-${p.id}`);
    for (const event of ['key.created', '*', 42]) {
      const res = await testEvent(p, ep.id, { event });
      expect(res.status, res.text).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed' });
      expect(res.body.message).toContain('event');
    }
    expect(at(`/bad-${p.id}`)).toHaveLength(0);
  });

  it('answers with the failure (and the type) when the endpoint fails', async () => {
    const p = await server.createProject();
    const path = `/down-${p.id}`;
    const ep = await endpoint(p, path);
    const prev = receiver.respond;
    receiver.respond = (r, n) => (r.path === path ? { status: 503, body: 'maintenance' } : prev(r, n));
    try {
      const res = await testEvent(p, ep.id, { event: 'key.revoked' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({
        success: false,
        statusCode: 503,
        responseBody: 'maintenance',
        delivery: { eventType: 'key.revoked', status: 'failed' },
      });
    } finally {
      receiver.respond = prev;
    }
  });
});
