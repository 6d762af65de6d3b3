import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * GET /v1/overview (dashboard.overview): the counts come from counters and roll-ups kept by
 * triggers (decision 0028), so they must follow every change of the rows they summarise.
 */
let server: TestServer;
let project: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  project = await server.createProject();
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const overview = async (key = project.skTest) => {
  const r = await server.request('GET', '/v1/overview', { key });
  expect(r.status, r.text).toBe(200);
  return r.body;
};
const connect = (refId: string, provider = 'openai', providerKey = 'sk-byo-test-valid') =>
  server.request('POST', '/v1/keys/connect', { key: project.skTest, body: { provider, refId, providerKey } });
const call = async (refId: string, model = 'gpt-4o-mini') => {
  const res = await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  return res.status;
};

describe('GET /v1/overview', () => {
  it('counts keys by status and connected customers as keys are connected, revoked and reconnected', async () => {
    expect((await overview()).keys).toEqual({ active: 0, disabled: 0, revoked: 0 });
    await connect('c1');
    await connect('c1', 'anthropic');
    await connect('c2');
    let o = await overview();
    expect(o.keys).toEqual({ active: 3, disabled: 0, revoked: 0 });
    expect(o.customers.connected).toBe(2);
    // Replacing a key keeps the counts.
    await connect('c2');
    expect((await overview()).keys.active).toBe(3);

    await server.request('POST', '/v1/keys/revoke', { key: project.skTest, body: { provider: 'openai', refId: 'c1' } });
    o = await overview();
    expect(o.keys).toEqual({ active: 2, disabled: 0, revoked: 1 });
    expect(o.customers.connected).toBe(2); // c1 still has its anthropic key
    await server.request('POST', '/v1/keys/revoke', { key: project.skTest, body: { provider: 'anthropic', refId: 'c1' } });
    o = await overview();
    expect(o.keys).toEqual({ active: 1, disabled: 0, revoked: 2 });
    expect(o.customers.connected).toBe(1);
    await connect('c1');
    o = await overview();
    expect(o.keys).toEqual({ active: 2, disabled: 0, revoked: 1 });
    expect(o.customers.connected).toBe(2);

    // A key the provider rejects becomes disabled.
    await connect('c3', 'openai', 'sk-byo-test-invalid');
    expect(await call('c3')).toBe(401);
    // The proxy marks the key disabled as it answers; the write may land just after.
    for (let i = 0; i < 50 && (await overview()).keys.disabled === 0; i++) await new Promise((r) => setTimeout(r, 100));
    o = await overview();
    expect(o.keys.disabled).toBe(1);
    expect(o.customers.connected).toBe(2);
    // The live mode is counted apart.
    expect((await overview(project.skLive)).keys).toEqual({ active: 0, disabled: 0, revoked: 0 });
  });

  it('sums the 30 days of usage by day, with errors, and counts each active customer once', async () => {
    for (const refId of ['c1', 'c1', 'c2']) expect(await call(refId)).toBe(200);
    const o = await overview();
    expect(o.days).toHaveLength(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(o.days.at(-1).day).toBe(today);
    expect(o.totals.requests).toBe(4); // three calls and c3's rejected one
    expect(o.totals.errors).toBe(1);
    expect(o.errorRate).toBeCloseTo(0.25);
    expect(o.days.at(-1).requests).toBe(4);
    expect(o.totals.totalTokens).toBeGreaterThan(0);
    expect(o.customers.active).toBe(3);
    expect(await call('c1')).toBe(200);
    expect((await overview()).customers.active).toBe(3);
  });

  it('needs a secret key', async () => {
    expect((await server.request('GET', '/v1/overview', { key: project.pkTest })).status).toBe(403);
    expect((await server.request('GET', '/v1/overview')).status).toBe(401);
  });
});
