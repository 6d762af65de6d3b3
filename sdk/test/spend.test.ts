import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BYOK, type LimitExceededEvent, PermissionDeniedError, RateLimitError, ValidationError, type WebhookEvent } from '../src/index.js';
import { startTestServer, type TestProject, type TestServer } from './helpers/server.js';

/** byok.prices and byok.usage against a real server (the sandbox answers the calls). */
let server: TestServer;
let project: TestProject;
let byok: BYOK;
beforeAll(async () => {
  server = await startTestServer({ BYO_USAGE_FLUSH_INTERVAL: '50ms' });
  project = await server.createProject();
  byok = new BYOK({ apiKey: project.skTest, baseURL: server.url, maxRetries: 0 });
  await byok.keys.connect({ provider: 'openai', refId: 'cust_sdk', providerKey: 'sk-byo-test-valid' });
});
afterAll(async () => server?.close());

describe('byok.prices', () => {
  it('resolves a dated id to its model, sets and deletes an override (a model id with a slash too)', async () => {
    const resolved = await byok.prices.list({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18' });
    expect(resolved.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(resolved.data).toEqual([expect.objectContaining({ model: 'gpt-4o-mini', source: 'table', input: 0.15 })]);

    const set = await byok.prices.set({ provider: 'groq', model: 'openai/gpt-oss-120b', input: 0.2, output: 0.9, cachedInput: 0.1 });
    expect(set).toMatchObject({ provider: 'groq', model: 'openai/gpt-oss-120b', input: 0.2, cachedInput: 0.1, source: 'override' });
    const listed = await byok.prices.list({ provider: 'groq' });
    expect(listed.data[0]).toMatchObject({ model: 'openai/gpt-oss-120b', source: 'override' });
    expect(await byok.prices.delete({ provider: 'groq', model: 'openai/gpt-oss-120b' })).toEqual({
      provider: 'groq',
      model: 'openai/gpt-oss-120b',
      deleted: true,
    });
  });

  it('a bad price is a ValidationError with code validation_failed', async () => {
    const err = await byok.prices.set({ provider: 'openai', model: 'gpt-4o', input: -1, output: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('validation_failed');
  });
});

describe('byok.usage', () => {
  it('reports cost per refId, provider and model', async () => {
    await byok.openai({ refId: 'cust_sdk' }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const usage = await byok.usage.get({ refId: 'cust_sdk' });
    expect(usage.data).toEqual([expect.objectContaining({ refId: 'cust_sdk', provider: 'openai', requests: 1, unpricedRequests: 0 })]);
    expect(usage.data[0]?.costUsd).toBeGreaterThan(0);
    expect(usage.totals.costUsd).toBe(usage.data[0]?.costUsd);
  });
});

describe('byok.limits', () => {
  it('sets a customer limit and the default, reads their live state, and the proxy enforces them', async () => {
    await byok.keys.connect({ provider: 'openai', refId: 'cust_lim', providerKey: 'sk-byo-test-valid' });
    const set = await byok.limits.set({ refId: 'cust_lim', limits: [{ metric: 'requests', window: 'day', max: 1 }] });
    expect(set).toMatchObject({ refId: 'cust_lim', source: 'customer', limits: [{ metric: 'requests', max: 1, used: 0, remaining: 1 }] });
    const client = byok.openai({ refId: 'cust_lim' });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const err = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).code).toBe('limit_exceeded');
    expect((await byok.limits.get({ refId: 'cust_lim' })).limits[0]).toMatchObject({ used: 1, remaining: 0 });
    expect((await byok.limits.clear({ refId: 'cust_lim' })).source).toBe('none');

    expect((await byok.limits.setDefault({ limits: [{ metric: 'tokens', window: 'month', max: 100000 }] })).source).toBe('default');
    expect((await byok.limits.get({ refId: 'cust_lim' })).source).toBe('default');
    expect((await byok.limits.clearDefault()).limits).toEqual([]);
  });

  it("connect takes the key owner's cap; lowerLimits lowers it and refuses to raise it", async () => {
    const limit = { metric: 'requests', window: 'day', max: 5 } as const;
    const cap = [limit];
    await byok.keys.connect({ provider: 'openai', refId: 'cust_cap', providerKey: 'sk-byo-test-valid', limits: cap });
    expect((await byok.keys.get({ provider: 'openai', refId: 'cust_cap' })).limits).toEqual(cap);
    const lowered = await byok.keys.lowerLimits({ provider: 'openai', refId: 'cust_cap', limits: [{ ...limit, max: 1 }] });
    expect(lowered.limits).toEqual([{ ...limit, max: 1 }]);
    const err = await byok.keys.lowerLimits({ provider: 'openai', refId: 'cust_cap', limits: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as PermissionDeniedError).code).toBe('owner_limit_locked');
    const client = byok.openai({ refId: 'cust_cap' });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const over = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(RateLimitError);
  });

  it('limit events are in the SDK event types', () => {
    const e = { type: 'limit.exceeded', data: { requested: 1 } } as WebhookEvent;
    if (e.type === 'limit.exceeded') expect((e as LimitExceededEvent).data.requested).toBe(1);
  });
});

describe('byok.customers', () => {
  it('lists customers by prefix and gets one with its keys, limits and usage this month', async () => {
    const list = await byok.customers.list({ prefix: 'cust_sdk' });
    expect(list.data.map((c) => c.refId)).toEqual(['cust_sdk']);
    expect(list.data[0]?.keys).toEqual([{ provider: 'openai', status: 'active' }]);
    expect(list.data[0]?.thisMonth.requests).toBeGreaterThan(0);
    const one = await byok.customers.get({ refId: 'cust_sdk' });
    expect(one).toMatchObject({
      refId: 'cust_sdk',
      limits: { source: 'none' },
      thisMonth: { byModel: [expect.objectContaining({ provider: 'openai' })] },
    });
  });
});
