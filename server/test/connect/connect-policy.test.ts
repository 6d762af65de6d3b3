import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { canaryKey, expectNoLeaks, type MockProvider, mockProviderEnv, startMockProvider } from '../helpers/support.js';

/**
 * A publishable key is public, so it must not be a way to hijack a
 * customer's key. Each rule, and the hijack attempts it refuses.
 */

let server: TestServer;
let mock: MockProvider;
let p: TestProject;
const canaries: string[] = [];

beforeAll(async () => {
  mock = await startMockProvider();
  server = await startTestServer({
    ...mockProviderEnv(mock),
    // Operator-allowed hosts are not resolved, so no DNS query leaves the machine.
    BYO_ALLOWED_UPSTREAM_HOSTS: 'llm.internal.test,other.internal.test',
    BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000',
    BYO_RATE_LIMIT_CONNECT_PER_IP: '100000',
  });
  p = await server.createProject({ allowedOrigins: [APP], allowedBaseUrlHosts: ['llm.internal.test'] });
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
  await mock?.close();
}, 180_000);

function secret(label = 'policy'): string {
  const k = canaryKey(label);
  canaries.push(k);
  return k;
}

const APP = 'https://app.example.com';
// As the browser on the project's allowed origin sends it (without an Origin a pk is refused).
const connect = (key: string, body: Record<string, unknown>) =>
  server.request('POST', '/v1/keys/connect', { key, body, headers: { origin: APP } });
const getKey = (refId: string, provider = 'openai', sk = p.skTest) => server.request('GET', `/v1/keys/${provider}/${refId}`, { key: sk });
async function token(body: Record<string, unknown>, sk = p.skTest): Promise<string> {
  const res = await server.request('POST', '/v1/connect-tokens', { key: sk, body });
  expect(res.status, res.text).toBe(200);
  expect(res.body.token).toMatch(/^byo_ct_[0-9A-Za-z]{43}$/);
  return res.body.token;
}
const hint = (k: string) => `sk-...${k.slice(-4)}`;

describe('publishable key without a connect token', () => {
  it('makes the first connection for a refId (the seed snippet)', async () => {
    const k = secret();
    const res = await connect(p.pkTest, { provider: 'openai', refId: 'first_1', providerKey: k });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ provider: 'openai', refId: 'first_1', status: 'active', updated: false, keyHint: hint(k) });
  });

  it('cannot replace an active key: 409 key_exists pointing to connect tokens, and the key is unchanged', async () => {
    const victim = secret('victim');
    await connect(p.pkTest, { provider: 'openai', refId: 'hijack_1', providerKey: victim });
    const before = (await getKey('hijack_1')).body;
    const res = await connect(p.pkTest, { provider: 'openai', refId: 'hijack_1', providerKey: secret('attacker') });
    expect(res.status, res.text).toBe(409);
    expect(res.body.code).toBe('key_exists');
    expect(res.body.message).toMatch(/connect-tokens|connect token/i);
    const after = (await getKey('hijack_1')).body;
    expect(after).toEqual(before);
    // The stored key is still the victim's: the provider sees it on validate.
    mock.validKeys.add(victim);
    const v = await server.request('POST', '/v1/keys/validate', { key: p.skTest, body: { provider: 'openai', refId: 'hijack_1' } });
    expect(v.status, v.text).toBe(200);
    expect(mock.requests.at(-1)?.key).toBe(victim);
  });

  it('cannot replace it with the live pk of the same project either (a separate namespace)', async () => {
    const res = await connect(p.pkLive, { provider: 'openai', refId: 'hijack_1', providerKey: secret() });
    expect(res.status).toBe(200);
    expect(res.body.updated).toBe(false);
    expect((await getKey('hijack_1')).body.keyHint).not.toBe(res.body.keyHint);
  });

  it('of two concurrent first connections for one refId, exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => connect(p.pkTest, { provider: 'anthropic', refId: 'race_1', providerKey: secret('race') })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses, results.map((r) => r.text).join('\n')).toEqual([200, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('key_exists');
    const winner = results.find((r) => r.status === 200)?.body;
    expect((await getKey('race_1', 'anthropic')).body.keyHint).toBe(winner.keyHint);
  });

  it('concurrent secret-key connects for one new refId all succeed: one creates, the others replace', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => connect(p.skTest, { provider: 'google', refId: 'race_sk', providerKey: secret('race') })),
    );
    expect(
      results.map((r) => r.status),
      results.map((r) => r.text).join('\n'),
    ).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.body.updated === false)).toHaveLength(1);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
  });

  it('may set a base URL only on a host on the project allow-list', async () => {
    const ok = await connect(p.pkTest, {
      provider: 'openai',
      refId: 'base_ok',
      providerKey: secret(),
      providerConfig: { baseUrl: 'https://llm.internal.test/v1' },
    });
    expect(ok.status, ok.text).toBe(200);
    expect((await getKey('base_ok')).body.baseUrl).toBe('https://llm.internal.test/v1');
    for (const baseUrl of ['https://other.internal.test/v1', 'https://evil.example.test/v1', 'https://llm.internal.test.evil.test/v1']) {
      const res = await connect(p.pkTest, { provider: 'openai', refId: 'base_bad', providerKey: secret(), providerConfig: { baseUrl } });
      expect(res.status, `${baseUrl}: ${res.text}`).toBe(400);
      expect(res.body.code).toBe('invalid_base_url');
    }
    expect((await getKey('base_bad')).status).toBe(404);
  });

  it('the default allow-list holds the well-known public OpenAI-compatible services', async () => {
    const q = await server.createProject({ allowedOrigins: [APP] });
    const got = await server.request('GET', `/v1/admin/projects/${q.id}`, { key: server.adminToken });
    for (const host of ['openrouter.ai', 'api.together.xyz', 'api.groq.com', 'api.fireworks.ai', 'api.deepseek.com', 'api.mistral.ai'])
      expect(got.body.allowedBaseUrlHosts).toContain(host);
  });

  it('a secret key may replace a key and set any (SSRF-checked) base URL', async () => {
    const k = secret();
    const res = await connect(p.skTest, {
      provider: 'openai',
      refId: 'hijack_1',
      providerKey: k,
      providerConfig: { baseUrl: 'https://other.internal.test/v1' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ updated: true, keyHint: hint(k) });
  });
});

describe('connect tokens', () => {
  it('let a publishable key replace the key of the refId they were issued for, once', async () => {
    await connect(p.pkTest, { provider: 'openai', refId: 'tok_1', providerKey: secret() });
    const t = await token({ refId: 'tok_1' });
    const k = secret();
    const res = await connect(p.pkTest, { provider: 'openai', refId: 'tok_1', providerKey: k, connectToken: t });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ updated: true, keyHint: hint(k) });
    // Reused: 401, and the key stays as the first use left it.
    const again = await connect(p.pkTest, { provider: 'openai', refId: 'tok_1', providerKey: secret(), connectToken: t });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('connect_token_invalid');
    expect(again.text).not.toContain(t.slice(7, 20));
    expect((await getKey('tok_1')).body.keyHint).toBe(hint(k));
  });

  it('a token for refId A used on refId B is 403, and B is untouched', async () => {
    const victim = secret('victim');
    await connect(p.pkTest, { provider: 'openai', refId: 'tok_b', providerKey: victim });
    const t = await token({ refId: 'tok_a' });
    const res = await connect(p.pkTest, { provider: 'openai', refId: 'tok_b', providerKey: secret('attacker'), connectToken: t });
    expect(res.status, res.text).toBe(403);
    expect(res.body.code).toBe('connect_token_mismatch');
    expect((await getKey('tok_b')).body.keyHint).toBe(hint(victim));
  });

  it('an expired token is 401', async () => {
    await connect(p.pkTest, { provider: 'openai', refId: 'tok_exp', providerKey: secret() });
    const t = await token({ refId: 'tok_exp', expiresInSeconds: 30 });
    // The clock moves on: expire it in the database rather than waiting 30 s.
    await sql`update connect_tokens set expires_at = now() - interval '1 second' where ref_id = 'tok_exp'`.execute(server.app.services.db);
    const res = await connect(p.pkTest, { provider: 'openai', refId: 'tok_exp', providerKey: secret(), connectToken: t });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('connect_token_invalid');
  });

  it('a made-up or malformed token is 401', async () => {
    await connect(p.pkTest, { provider: 'openai', refId: 'tok_fake', providerKey: secret() });
    for (const connectToken of ['byo_ct_0000000000000000000000000000000000000000000', 'nonsense', p.skTest]) {
      const res = await connect(p.pkTest, { provider: 'openai', refId: 'tok_fake', providerKey: secret(), connectToken });
      expect(res.status, `${connectToken}: ${res.text}`).toBe(401);
      expect(res.body.code).toBe('connect_token_invalid');
    }
  });

  it('a token limited to some providers refuses the others', async () => {
    const t = await token({ refId: 'tok_prov', providers: ['anthropic'] });
    const res = await connect(p.pkTest, { provider: 'openai', refId: 'tok_prov', providerKey: secret(), connectToken: t });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('connect_token_mismatch');
    const t2 = await token({ refId: 'tok_prov', providers: ['anthropic'] });
    const ok = await connect(p.pkTest, { provider: 'anthropic', refId: 'tok_prov', providerKey: secret(), connectToken: t2 });
    expect(ok.status, ok.text).toBe(200);
  });

  it('a token with allowBaseUrl lets the browser set a base URL off the allow-list; without it, not', async () => {
    const body = (connectToken: string) => ({
      provider: 'openai',
      refId: 'tok_base',
      providerKey: secret(),
      providerConfig: { baseUrl: 'https://other.internal.test/v1' },
      connectToken,
    });
    const denied = await connect(p.pkTest, body(await token({ refId: 'tok_base' })));
    expect(denied.status, denied.text).toBe(400);
    expect(denied.body.code).toBe('invalid_base_url');
    const ok = await connect(p.pkTest, body(await token({ refId: 'tok_base', allowBaseUrl: true })));
    expect(ok.status, ok.text).toBe(200);
    expect((await getKey('tok_base')).body.baseUrl).toBe('https://other.internal.test/v1');
    // Still SSRF-checked: a token does not open private addresses.
    const ssrf = await connect(p.pkTest, {
      ...body(await token({ refId: 'tok_base', allowBaseUrl: true })),
      providerConfig: { baseUrl: 'https://169.254.169.254/v1' },
    });
    expect(ssrf.status).toBe(400);
    expect(ssrf.body.code).toBe('invalid_base_url');
  });

  it('a token cannot be minted with a publishable key', async () => {
    const res = await server.request('POST', '/v1/connect-tokens', { key: p.pkTest, body: { refId: 'x' } });
    expect(res.status).toBe(403);
  });

  it('token lifetimes are bounded (30 s to 15 min)', async () => {
    for (const expiresInSeconds of [0, 29, 901]) {
      const res = await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body: { refId: 'x', expiresInSeconds } });
      expect(res.status).toBe(400);
    }
  });

  it('only a hash of the token is stored', async () => {
    const t = await token({ refId: 'tok_hash' });
    const rows = await sql<{ r: string }>`select t::text as r from connect_tokens t`.execute(server.app.services.db);
    expect(rows.rows.map((r) => r.r).join('\n')).not.toContain(t.slice(7));
  });
});

describe('publishableConnect: token_required', () => {
  it('refuses every publishable connect without a token; tokens and secret keys still work', async () => {
    const q = await server.createProject({ allowedOrigins: [APP], publishableConnect: 'token_required' });
    const bare = await connect(q.pkTest, { provider: 'openai', refId: 'tr_1', providerKey: secret() });
    expect(bare.status).toBe(403);
    expect(bare.body.code).toBe('permission_denied');
    expect(bare.body.message).toMatch(/connect token/);
    const withToken = await connect(q.pkTest, {
      provider: 'openai',
      refId: 'tr_1',
      providerKey: secret(),
      connectToken: await token({ refId: 'tr_1' }, q.skTest),
    });
    expect(withToken.status, withToken.text).toBe(200);
    const sk = await connect(q.skTest, { provider: 'openai', refId: 'tr_2', providerKey: secret() });
    expect(sk.status).toBe(200);
  });

  it('switching a project to token_required applies at once', async () => {
    const q = await server.createProject({ allowedOrigins: [APP] });
    expect((await connect(q.pkTest, { provider: 'openai', refId: 'sw_1', providerKey: secret() })).status).toBe(200);
    const patch = await server.request('PATCH', `/v1/admin/projects/${q.id}`, {
      key: server.adminToken,
      body: { publishableConnect: 'token_required' },
    });
    expect(patch.status, patch.text).toBe(200);
    const res = await connect(q.pkTest, { provider: 'openai', refId: 'sw_2', providerKey: secret() });
    expect(res.status).toBe(403);
  });
});

describe('validate on connect', () => {
  it('a key the provider rejects is not stored: 422 key_invalid and a key.validation_failed event', async () => {
    const q = await server.createProject({ allowedOrigins: [APP], validateOnConnect: true });
    const bad = secret('rejected');
    const res = await connect(q.pkLive, { provider: 'openai', refId: 'voc_1', providerKey: bad });
    expect(res.status, res.text).toBe(422);
    expect(res.body.code).toBe('key_invalid');
    expect(res.text).not.toContain(bad.slice(-12));
    expect(mock.requests.at(-1)).toMatchObject({ path: '/v1/models', key: bad });
    expect((await getKey('voc_1', 'openai', q.skLive)).status).toBe(404);
    const events = await server.app.services.db.selectFrom('events').selectAll().where('project_id', '=', q.id).execute();
    expect(events.map((e) => e.type)).toEqual(['key.validation_failed']);
    expect(JSON.stringify(events[0]?.data)).not.toContain(bad.slice(-12));

    const good = secret('accepted');
    mock.validKeys.add(good);
    const ok = await connect(q.pkLive, { provider: 'openai', refId: 'voc_1', providerKey: good });
    expect(ok.status, ok.text).toBe(200);
    const meta = (await getKey('voc_1', 'openai', q.skLive)).body;
    expect(meta).toMatchObject({ status: 'active', lastValidationResult: 'valid' });
    expect(meta.lastValidatedAt).not.toBeNull();
  });

  it('"could not check" (provider 5xx, 429, unreachable) is not "invalid": the key is stored', async () => {
    const q = await server.createProject({ allowedOrigins: [APP], validateOnConnect: true });
    for (const status of [500, 503, 429]) {
      mock.failWith = status;
      try {
        const res = await connect(q.skLive, { provider: 'openai', refId: `voc_${status}`, providerKey: secret() });
        expect(res.status, res.text).toBe(200);
        expect((await getKey(`voc_${status}`, 'openai', q.skLive)).body.lastValidationResult).toBe('unknown');
      } finally {
        mock.failWith = null;
      }
    }
  });

  it('in test mode the sandbox keys validate without a provider', async () => {
    const q = await server.createProject({ allowedOrigins: [APP], validateOnConnect: true });
    const seen = mock.requests.length;
    const bad = await connect(q.pkTest, { provider: 'anthropic', refId: 'sb_1', providerKey: 'sk-byo-test-invalid' });
    expect(bad.status).toBe(422);
    const ok = await connect(q.pkTest, { provider: 'anthropic', refId: 'sb_1', providerKey: 'sk-byo-test-valid' });
    expect(ok.status).toBe(200);
    expect(mock.requests.length).toBe(seen);
  });
});
