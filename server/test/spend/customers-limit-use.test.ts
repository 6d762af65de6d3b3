import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyEnv, startProxyEnv } from '../proxy/support.js';

/**
 * `limitUse` on each row of GET /v1/customers: of the limits in force for the customer (its
 * own, else the project default), the one nearest its max, after real calls through the proxy;
 * with counters in the database and in Redis.
 */
const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const stores: [string, Record<string, string>][] = [
  ['database', {}],
  ['Redis', { REDIS_URL: redis, BYO_REDIS_PREFIX: `t_${randomBytes(6).toString('hex')}` }],
];

describe.each(stores)('customers list: limit use, counters in the %s', (_name, env) => {
  let e: ProxyEnv;
  const put = (path: string, body: unknown) => e.server.request('PUT', path, { key: e.project.skLive, body });
  const list = async () => {
    const res = await e.server.request('GET', '/v1/customers?prefix=lu_', { key: e.project.skLive });
    expect(res.status, res.text).toBe(200);
    return new Map<string, unknown>(res.body.data.map((c: { refId: string; limitUse: unknown }) => [c.refId, c.limitUse]));
  };
  const calls = async (refId: string, n: number) => {
    for (let i = 0; i < n; i++)
      await e.openai(refId).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
  };

  beforeAll(async () => {
    e = await startProxyEnv(env);
    for (const ref of ['lu_own', 'lu_default', 'lu_idle']) await e.connect('openai', ref, 'sk-real-key-123456');
  });
  afterAll(async () => e?.close());

  it('is null while no limit applies', async () => {
    await calls('lu_default', 1);
    expect([...(await list()).values()]).toEqual([null, null, null]);
  });

  it("is the limit nearest its max, the customer's own or else the project default", async () => {
    expect(
      (
        await put('/v1/limits/default', {
          limits: [
            { metric: 'tokens', window: 'month', max: 1_000_000 },
            { metric: 'requests', window: 'day', max: 10 },
          ],
        })
      ).status,
    ).toBe(200);
    expect((await put('/v1/customers/lu_own/limits', { limits: [{ metric: 'requests', window: 'month', max: 4 }] })).status).toBe(200);
    await calls('lu_own', 3);
    await calls('lu_default', 3);

    const use = await list();
    expect(use.get('lu_own')).toEqual({
      source: 'customer',
      metric: 'requests',
      window: 'month',
      provider: null,
      max: 4,
      used: 3,
      fraction: 0.75,
    });
    // 3 requests of 10 today is nearer its max than a few hundred tokens of a million.
    expect(use.get('lu_default')).toEqual({
      source: 'default',
      metric: 'requests',
      window: 'day',
      provider: null,
      max: 10,
      used: 3,
      fraction: 0.3,
    });
    // The default applies to a customer without calls: nothing used yet.
    expect(use.get('lu_idle')).toMatchObject({ source: 'default', used: 0, fraction: 0 });

    // Its own limits removed, a customer is under the default again, whose counters its calls
    // under its own limits did not charge; the next call does.
    await e.server.request('DELETE', '/v1/customers/lu_own/limits', { key: e.project.skLive });
    expect((await list()).get('lu_own')).toMatchObject({ source: 'default', used: 0, fraction: 0 });
    await calls('lu_own', 1);
    expect((await list()).get('lu_own')).toMatchObject({ source: 'default', metric: 'requests', window: 'day', used: 1, fraction: 0.1 });
    await e.server.request('DELETE', '/v1/limits/default', { key: e.project.skLive });
    expect([...(await list()).values()]).toEqual([null, null, null]);
  });
});
