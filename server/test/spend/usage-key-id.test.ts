import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyEnv, startProxyEnv } from '../proxy/support.js';

/**
 * `GET /v1/usage` names the stored key that paid for each row (`keyId`, the `x-byo-key-id` of
 * the answers) and narrows to one key with `keyId`: calls through the proxy against a mock
 * provider, read back over REST.
 */
let env: ProxyEnv;
beforeAll(async () => {
  env = await startProxyEnv();
  await env.connect('openai', 'kid_a', 'sk-first-key-aaaa1111');
  await env.connect('anthropic', 'kid_a', 'sk-ant-key-bbbb2222');
  await env.connect('openai', 'kid_b', 'sk-other-key-cccc3333');
});
afterAll(async () => env?.close());

/** One call through the proxy; the id and hint of the key BYO chose, from the answer's headers. */
async function call(refId: string): Promise<{ id: string; hint: string }> {
  const { response } = await env
    .openai(refId)
    .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  return { id: response.headers.get('x-byo-key-id') ?? '', hint: response.headers.get('x-byo-key-hint') ?? '' };
}

const usage = async (query: string) => {
  const res = await env.server.request('GET', `/v1/usage?${query}`, { key: env.project.skLive });
  expect(res.status, res.text).toBe(200);
  return res.body as { data: { refId: string; provider: string; keyId: string | null; requests: number }[]; totals: { requests: number } };
};

describe('usage by stored key', () => {
  it('each row carries the id of the key that paid, the one the answer named; keyId narrows to that key', async () => {
    const a = await call('kid_a');
    const b = await call('kid_b');
    await call('kid_b');
    const stored = await env.server.request('GET', '/v1/keys/openai/kid_a', { key: env.project.skLive });
    expect(a.id).toMatch(/^key_/);
    expect(a.id).toBe(stored.body.id);
    expect(b.id).not.toBe(a.id);

    const all = await usage('provider=openai');
    expect(all.data.find((r) => r.refId === 'kid_a')).toMatchObject({ keyId: a.id, requests: 1 });
    expect(all.data.find((r) => r.refId === 'kid_b')).toMatchObject({ keyId: b.id, requests: 2 });

    const onlyB = await usage(`keyId=${b.id}`);
    expect(onlyB.data.map((r) => [r.refId, r.keyId, r.requests])).toEqual([['kid_b', b.id, 2]]);
    expect(onlyB.totals.requests).toBe(2);
    // Another customer's key, a key of another project or mode, and an id of no key: nothing.
    const anthropicId = (await env.server.request('GET', '/v1/keys/anthropic/kid_a', { key: env.project.skLive })).body.id;
    expect((await usage(`keyId=${anthropicId}`)).data).toEqual([]);
    expect((await usage('keyId=key_doesnotexist0000')).data).toEqual([]);
    expect((await env.server.request('GET', `/v1/usage?keyId=${b.id}`, { key: env.project.skTest })).body.data).toEqual([]);
    const bad = await env.server.request('GET', '/v1/usage?keyId=sk-not-an-id', { key: env.project.skLive });
    expect(bad.status).toBe(400);
  });

  it('a replaced key keeps its id (the hint tells the secrets apart): rows after the replace carry the same id', async () => {
    const before = await call('kid_a');
    await env.connect('openai', 'kid_a', 'sk-second-key-dddd4444');
    const after = await call('kid_a');
    expect(after.id).toBe(before.id);
    expect(after.hint).not.toBe(before.hint);
    const rows = (await usage(`keyId=${after.id}`)).data;
    expect(rows.map((r) => [r.refId, r.provider, r.keyId])).toEqual([['kid_a', 'openai', after.id]]);
    expect(rows[0]?.requests).toBe(3);
  });
});
