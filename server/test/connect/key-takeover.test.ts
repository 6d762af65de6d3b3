import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * A publishable key without a connect token may make only the FIRST connection of
 * a refId and provider. Before, it could replace any row that was not `active`: once the
 * provider rejected the customer's key (→ disabled) or the backend revoked it, anyone holding
 * the public pk could connect their own key (and base URL) for that customer.
 */

let server: TestServer;
let mock: MockUpstream;
let p: TestProject;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestServer({
    ...mock.env,
    BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000',
    BYO_RATE_LIMIT_CONNECT_PER_IP: '100000',
  });
  p = await server.createProject();
}, 120_000);

afterAll(async () => {
  await server?.close();
  await mock?.close();
});

const connect = (key: string, body: Record<string, unknown>) => server.request('POST', '/v1/keys/connect', { key, body });
const customerKey = (label: string) => `sk-proj-${label}-${'x'.repeat(40)}`;
const attackerKey = 'sk-attacker-0000000000000000000000000000';

async function keyConnectedEvents(refId: string) {
  const rows = await server.app.services.db
    .selectFrom('events')
    .select(['data', 'created_at'])
    .where('project_id', '=', p.id)
    .where('type', '=', 'key.connected')
    .orderBy('created_at')
    .execute();
  const all = rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>);
  return all.filter((d) => d.refId === refId);
}

async function proxiedChat(refId: string) {
  return fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.skTest}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

function expectRefused(res: { status: number; body: { code?: string; message?: string } }) {
  expect(res.status).toBe(409);
  expect(res.body.code).toBe('key_exists');
  expect(res.body.message).toMatch(/connect token/);
  expect(res.body.message).toMatch(/backend/);
}

describe('a publishable key cannot take over a refId that had a key', () => {
  it('after the provider rejected the key (401 through the proxy → disabled)', async () => {
    const first = await connect(p.pkTest, { provider: 'openai', refId: 'to_disabled', providerKey: customerKey('a') });
    expect(first.status, first.text).toBe(200);
    const stop = mock.intercept(
      { provider: 'openai', path: '/chat/completions' },
      { status: 401, json: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } },
    );
    try {
      const res = await proxiedChat('to_disabled');
      expect(res.status).toBe(401);
      await res.text();
    } finally {
      stop();
    }
    // The disable is written after the provider's answer is passed on: wait for it.
    let meta = await server.request('GET', '/v1/keys/openai/to_disabled', { key: p.skTest });
    for (let i = 0; i < 50 && meta.body.status !== 'disabled'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      meta = await server.request('GET', '/v1/keys/openai/to_disabled', { key: p.skTest });
    }
    expect(meta.body.status).toBe('disabled');

    const takeover = await connect(p.pkTest, {
      provider: 'openai',
      refId: 'to_disabled',
      providerKey: attackerKey,
      providerConfig: { baseUrl: 'https://openrouter.ai/api/v1' },
    });
    expectRefused(takeover);
    const after = await server.request('GET', '/v1/keys/openai/to_disabled', { key: p.skTest });
    expect(after.body).toMatchObject({ status: 'disabled', baseUrl: null, keyHint: meta.body.keyHint });
  });

  it('after the backend revoked the key', async () => {
    expect((await connect(p.pkTest, { provider: 'openai', refId: 'to_revoked', providerKey: customerKey('b') })).status).toBe(200);
    const rev = await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'to_revoked' } });
    expect(rev.status, rev.text).toBe(200);
    expectRefused(await connect(p.pkTest, { provider: 'openai', refId: 'to_revoked', providerKey: attackerKey }));
    expect((await server.request('GET', '/v1/keys/openai/to_revoked', { key: p.skTest })).body.status).toBe('revoked');
  });

  it('the secret key and a connect token still reconnect; the event says replaced and by what', async () => {
    const ref = 'to_reconnect';
    expect((await connect(p.pkTest, { provider: 'openai', refId: ref, providerKey: customerKey('c') })).status).toBe(200);
    await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: ref } });

    const tok = await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body: { refId: ref } });
    expect(tok.status, tok.text).toBe(200);
    const viaToken = await connect(p.pkTest, {
      provider: 'openai',
      refId: ref,
      providerKey: customerKey('d'),
      connectToken: tok.body.token,
    });
    expect(viaToken.status, viaToken.text).toBe(200);
    expect(viaToken.body).toMatchObject({ status: 'active', updated: true });

    const viaSk = await connect(p.skTest, { provider: 'openai', refId: ref, providerKey: customerKey('e') });
    expect(viaSk.status, viaSk.text).toBe(200);
    expect(viaSk.body).toMatchObject({ status: 'active', updated: true });

    const events = await keyConnectedEvents(ref);
    expect(events.map((e) => [e.replaced, e.by])).toEqual([
      [false, 'publishable_key'],
      [true, 'connect_token'],
      [true, 'secret_key'],
    ]);
    expect(events[2]).toEqual({ provider: 'openai', refId: ref, keyHint: viaSk.body.keyHint, replaced: true, by: 'secret_key' });
  });

  it('a first connection by the secret key is `replaced: false, by: secret_key`', async () => {
    expect((await connect(p.skTest, { provider: 'anthropic', refId: 'to_sk_first', providerKey: customerKey('f') })).status).toBe(200);
    expect(await keyConnectedEvents('to_sk_first')).toMatchObject([{ replaced: false, by: 'secret_key', provider: 'anthropic' }]);
  });

  it('of concurrent publishable first connections for one refId exactly one wins, also across the batcher', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => connect(p.pkTest, { provider: 'google', refId: 'to_race', providerKey: customerKey(`r${i}`) })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect(await keyConnectedEvents('to_race')).toHaveLength(1);
  });
});
