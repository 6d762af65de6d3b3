import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyEnv, startProxyEnv } from '../proxy/support.js';

/** GET /v1/customers and /v1/customers/{refId}, after real calls through the proxy. */
let e: ProxyEnv;
const get = (path: string, key = e.project.skLive) => e.server.request('GET', path, { key });

beforeAll(async () => {
  e = await startProxyEnv();
  for (const ref of ['acme_1', 'acme_2', 'acme_3', 'beta_1']) await e.connect('openai', ref, 'sk-real-key-123456');
  await e.connect('anthropic', 'acme_1', 'sk-ant-real-key-123456');
  e.mock.intercept(
    { provider: 'openai', path: '/chat/completions' },
    {
      json: {
        id: 'c',
        object: 'chat.completion',
        model: 'gpt-4o-2024-08-06',
        choices: [],
        usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 },
      },
    },
  );
  for (let i = 0; i < 3; i++)
    await e.openai('acme_1').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
  await e.openai('beta_1').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
  await e.server.request('PUT', '/v1/customers/acme_1/limits', {
    key: e.project.skLive,
    body: { limits: [{ metric: 'requests', window: 'month', max: 100 }] },
  });
});
afterAll(async () => e?.close());

describe('customers', () => {
  it('lists customers by refId prefix, paginated, with keys, last use and this month’s usage and cost', async () => {
    const first = await get('/v1/customers?prefix=acme_&limit=2');
    expect(first.status, first.text).toBe(200);
    expect(first.body.data.map((c: { refId: string }) => c.refId)).toEqual(['acme_1', 'acme_2']);
    const acme1 = first.body.data[0];
    expect(acme1.keys).toEqual([
      { provider: 'anthropic', status: 'active' },
      { provider: 'openai', status: 'active' },
    ]);
    expect(acme1.lastUsedAt).not.toBeNull();
    expect(acme1.thisMonth).toMatchObject({ requests: 3, inputTokens: 3000, outputTokens: 300, totalTokens: 3300, unpricedRequests: 0 });
    expect(acme1.thisMonth.costUsd).toBeCloseTo((3 * (1000 * 2.5 + 100 * 10)) / 1e6, 12);
    expect(first.body.data[1]).toMatchObject({ refId: 'acme_2', lastUsedAt: null, thisMonth: { requests: 0, costUsd: 0 } });

    const second = await get(`/v1/customers?prefix=acme_&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((c: { refId: string }) => c.refId)).toEqual(['acme_3']);
    expect(second.body.nextCursor).toBeNull();
    const all = await get('/v1/customers');
    expect(all.body.data.map((c: { refId: string }) => c.refId)).toEqual(['acme_1', 'acme_2', 'acme_3', 'beta_1']);
    // Another mode sees its own customers only.
    expect((await get('/v1/customers', e.project.skTest)).body.data).toEqual([]);
  });

  it('gets one customer with its keys, limits in force with their use, and usage by model', async () => {
    const c = await get('/v1/customers/acme_1');
    expect(c.status, c.text).toBe(200);
    expect(c.body.keys.map((k: { provider: string }) => k.provider).sort()).toEqual(['anthropic', 'openai']);
    expect(c.body.keys[0].keyHint).toMatch(/\.\.\./);
    expect(JSON.stringify(c.body)).not.toContain('real-key-123456');
    expect(c.body.limits).toMatchObject({ source: 'customer', limits: [{ metric: 'requests', window: 'month', max: 100 }] });
    expect(c.body.thisMonth.byModel).toEqual([
      expect.objectContaining({ provider: 'openai', model: 'gpt-4o-2024-08-06', requests: 3, totalTokens: 3300 }),
    ]);
  });

  it('an unknown customer is a 404; a bad prefix or cursor a coded 400', async () => {
    expect((await get('/v1/customers/nobody')).body.code).toBe('not_found');
    expect((await get('/v1/customers?prefix=a%20b')).body.code).toBe('validation_failed');
    expect((await get('/v1/customers?cursor=bm9wZQ')).body.code).toBe('validation_failed');
  });
});
