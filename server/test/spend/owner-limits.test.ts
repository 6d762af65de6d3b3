import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyEnv, startProxyEnv } from '../proxy/support.js';

/**
 * The key owner's cap: `limits` given at connect (publishable or secret key) is stored with the
 * key, shown in its view, enforced in the proxy on top of the app's limits, and may be lowered by
 * the secret key but never raised or removed; only a new connect replaces it.
 */

let e: ProxyEnv;
const ORIGIN = 'https://app.example';
const sk = () => e.project.skLive;
const pk = () => e.project.pkLive;
const connect = (key: string, body: Record<string, unknown>) =>
  e.server.request('POST', '/v1/keys/connect', { key, body, headers: key === pk() ? { origin: ORIGIN } : {} });
const lower = (refId: string, limits: unknown) =>
  e.server.request('PUT', `/v1/keys/openai/${refId}/limits`, { key: sk(), body: { limits } });
const chat = (refId: string) =>
  fetch(`${e.server.url}/v1/proxy/openai/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sk()}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
const key = (label: string) => `sk-proj-${label}-${'x'.repeat(40)}`;

beforeAll(async () => {
  e = await startProxyEnv({ BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000', BYO_RATE_LIMIT_CONNECT_PER_IP: '100000' });
  e.project = await e.server.createProject({ allowedOrigins: [ORIGIN] });
}, 120_000);
afterAll(async () => {
  await e?.close();
});

describe("the key owner's cap", () => {
  it('a publishable-key connect stores it; the key view returns it; the proxy enforces it', async () => {
    const limits = [{ metric: 'requests', window: 'day', max: 2 }];
    const c = await connect(pk(), { provider: 'openai', refId: 'cap_pk', providerKey: key('a'), limits });
    expect(c.status, c.text).toBe(200);
    const view = await e.server.request('GET', '/v1/keys/openai/cap_pk', { key: sk() });
    expect(view.body.limits).toEqual(limits);
    expect((await chat('cap_pk')).status).toBe(200);
    expect((await chat('cap_pk')).status).toBe(200);
    const refused = await chat('cap_pk');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-byo-error-source')).toBe('byo');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('limit_exceeded');
    expect(body.error.message).toMatch(/Over the key owner's cap: requests per day, max 2/);
    // The customer view shows the cap's live use beside the app's limits.
    const customer = await e.server.request('GET', '/v1/customers/cap_pk', { key: sk() });
    expect(customer.status, customer.text).toBe(200);
    expect(customer.body.ownerCaps).toEqual([
      {
        provider: 'openai',
        keyId: c.body.id,
        limits: [expect.objectContaining({ metric: 'requests', window: 'day', max: 2, used: 2, remaining: 0 })],
      },
    ]);
    expect(customer.body.limits.source).toBe('none');
    // Another customer without a cap is not affected.
    expect((await connect(sk(), { provider: 'openai', refId: 'cap_none', providerKey: key('b') })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await chat('cap_none')).status).toBe(200);
  });

  it('applies on top of the app’s own limits: the stricter one refuses first', async () => {
    await connect(sk(), {
      provider: 'openai',
      refId: 'cap_both',
      providerKey: key('c'),
      limits: [{ metric: 'requests', window: 'hour', max: 1 }],
    });
    const app = await e.server.request('PUT', '/v1/customers/cap_both/limits', {
      key: sk(),
      body: { limits: [{ metric: 'requests', window: 'hour', max: 5 }] },
    });
    expect(app.status, app.text).toBe(200);
    expect((await chat('cap_both')).status).toBe(200);
    const second = await chat('cap_both');
    expect(second.status).toBe(429);
    expect(await second.text()).toMatch(/max 1\b/);
  });

  it('the secret key may lower it or add a limit, never raise or remove one', async () => {
    const start = [
      { metric: 'cost_usd', window: 'month', max: 50 },
      { metric: 'requests', window: 'minute', max: 100 },
    ];
    expect((await connect(pk(), { provider: 'openai', refId: 'cap_low', providerKey: key('d'), limits: start })).status).toBe(200);

    const raise = await lower('cap_low', [{ metric: 'cost_usd', window: 'month', max: 80 }, start[1]]);
    expect(raise.status).toBe(403);
    expect(raise.body.code).toBe('owner_limit_locked');
    expect(raise.body.message).toMatch(/raise the cap's cost_usd per month \(max 50\) to 80/);
    expect(raise.body.message).toMatch(/connects the key again/);

    const remove = await lower('cap_low', [start[0]]);
    expect(remove.status).toBe(403);
    expect(remove.body.message).toMatch(/drop the cap's requests per minute/);
    const clear = await lower('cap_low', []);
    expect(clear.status).toBe(403);

    const lowered = [
      { metric: 'cost_usd', window: 'month', max: 20 },
      { metric: 'requests', window: 'minute', max: 100 },
      { metric: 'tokens', window: 'day', max: 10_000 },
    ];
    const ok = await lower('cap_low', lowered);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.limits).toEqual(lowered);
    expect((await e.server.request('GET', '/v1/keys/openai/cap_low', { key: sk() })).body.limits).toEqual(lowered);
    // The proxy sees the lowered cap at once.
    expect((await lower('cap_low', [...lowered.slice(0, 2), { metric: 'requests', window: 'day', max: 1 }, lowered[2]])).status).toBe(200);
    expect((await chat('cap_low')).status).toBe(200);
    expect((await chat('cap_low')).status).toBe(429);
  });

  it('a publishable key cannot lower, and the write is audited', async () => {
    const res = await e.server.request('PUT', '/v1/keys/openai/cap_low/limits', { key: pk(), body: { limits: [] } });
    expect(res.status).toBe(403);
    const rows = await e.server.app.services.db
      .selectFrom('audit_log')
      .select(['action', 'metadata'])
      .where('project_id', '=', e.project.id)
      .where('action', '=', 'key.limits_lowered')
      .execute();
    expect(rows.length).toBe(2);
    expect(JSON.stringify(rows[0]?.metadata)).toContain('cap_low');
  });

  it('a replaced key keeps its cap unless the connect gives limits; [] removes it', async () => {
    const cap = [{ metric: 'requests', window: 'day', max: 1 }];
    await connect(sk(), { provider: 'openai', refId: 'cap_new', providerKey: key('e'), limits: cap });
    expect((await chat('cap_new')).status).toBe(200);
    expect((await chat('cap_new')).status).toBe(429);
    // The customer rotates their key through a form that does not show the cap: it stays.
    const rotated = await connect(sk(), { provider: 'openai', refId: 'cap_new', providerKey: key('f') });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.updated).toBe(true);
    expect((await e.server.request('GET', '/v1/keys/openai/cap_new', { key: sk() })).body.limits).toEqual(cap);
    expect((await chat('cap_new')).status).toBe(429);
    // Only a connect that says so raises it, or removes it.
    const raised = await connect(sk(), { provider: 'openai', refId: 'cap_new', providerKey: key('g'), limits: [{ ...cap[0], max: 5 }] });
    expect(raised.status, raised.text).toBe(200);
    expect((await chat('cap_new')).status).toBe(200);
    const removed = await connect(sk(), { provider: 'openai', refId: 'cap_new', providerKey: key('h'), limits: [] });
    expect(removed.status, removed.text).toBe(200);
    expect((await e.server.request('GET', '/v1/keys/openai/cap_new', { key: sk() })).body.limits).toBeNull();
    for (let i = 0; i < 5; i++) expect((await chat('cap_new')).status).toBe(200);
    // The connect's audit row records the cap the customer gave.
    const rows = await e.server.app.services.db
      .selectFrom('audit_log')
      .select('metadata')
      .where('project_id', '=', e.project.id)
      .where('action', '=', 'key.replaced')
      .execute();
    expect(rows.map((r) => JSON.stringify(r.metadata)).filter((m) => m.includes('cap_new') && m.includes('"limits"')).length).toBe(2);
  });

  it("a cost cap counts at the built-in prices: the app's own price of 0 does not switch it off", async () => {
    const free = await e.server.request('PUT', '/v1/prices/openai/gpt-4o-mini', { key: sk(), body: { input: 0, output: 0 } });
    expect(free.status, free.text).toBe(200);
    e.mock.intercept(
      { provider: 'openai', path: '/chat/completions' },
      {
        json: {
          id: 'c',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [],
          usage: { prompt_tokens: 40, completion_tokens: 60, total_tokens: 100 },
        },
      },
    );
    const limits = [{ metric: 'cost_usd', window: 'day', max: 1 }];
    expect((await connect(sk(), { provider: 'openai', refId: 'cap_cost', providerKey: key('h'), limits })).status).toBe(200);
    const res = await fetch(`${e.server.url}/v1/proxy/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sk()}`, 'x-byo-ref-id': 'cap_cost', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    // gpt-4o-mini in the table: 40 × $0.15 + 60 × $0.60 per million.
    const expected = (40 * 0.15 + 60 * 0.6) / 1e6;
    const used = async () =>
      ((await e.server.request('GET', '/v1/customers/cap_cost', { key: sk() })).body.ownerCaps[0].limits[0].used as number) ?? 0;
    for (let i = 0; i < 50 && Math.abs((await used()) - expected) > 1e-12; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await used()).toBeCloseTo(expected, 12);
    await e.server.request('DELETE', '/v1/prices/openai/gpt-4o-mini', { key: sk() });
  });

  it('bad limits are a 400 with the field named, and nothing is stored', async () => {
    for (const limits of [
      [{ metric: 'requests', window: 'day', max: 1.5 }],
      [{ metric: 'requests', window: 'week', max: 1 }],
      [{ metric: 'requests', window: 'day', max: 1, provider: 'openai' }],
      [
        { metric: 'requests', window: 'day', max: 1 },
        { metric: 'requests', window: 'day', max: 2 },
      ],
    ]) {
      const res = await connect(pk(), { provider: 'openai', refId: 'cap_bad', providerKey: key('g'), limits });
      expect(res.status, JSON.stringify(limits)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    expect((await e.server.request('GET', '/v1/keys/openai/cap_bad', { key: sk() })).status).toBe(404);
  });
});
