import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { expectNoLeaks, keyWindows, waitFor } from '../helpers/support.js';

/** Rolling a secret key, with an overlap the caller picks; revocation. */

let server: TestServer;
let p: TestProject;
const issued: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  p = await server.createProject();
}, 180_000);

afterAll(async () => {
  if (server) {
    // The part after the public prefix (`byo_sk_live_` is also in every key hint).
    await expectNoLeaks(
      server,
      [p.skLive, p.skTest, p.pkLive, p.pkTest, ...issued].map((k) => k.slice(12)),
    );
    await server.close();
  }
}, 180_000);

const admin = (method: string, path: string, body?: unknown) => server.request(method, path, { key: server.adminToken, body });
const list = (key: string) => server.request('GET', '/v1/keys', { key });

async function newSk(mode = 'live'): Promise<{ id: string; key: string }> {
  const res = await admin('POST', `/v1/admin/projects/${p.id}/api-keys`, { kind: 'sk', mode });
  expect(res.status, res.text).toBe(200);
  issued.push(res.body.key);
  return res.body;
}

describe('rolling a secret key', () => {
  it('the old key works until the expiry the caller picked, then gets 401 api_key_expired; the new one works throughout', async () => {
    const old = await newSk();
    expect((await list(old.key)).status).toBe(200); // now in the auth cache
    const rolled = await admin('POST', `/v1/admin/api-keys/${old.id}/roll`, { expiresInSeconds: 2 });
    expect(rolled.status, rolled.text).toBe(200);
    const fresh = rolled.body.key.key as string;
    expect(fresh).toMatch(/^byo_sk_live_/);
    expect(rolled.body.key.kind).toBe('sk');
    expect(rolled.body.previous.id).toBe(old.id);
    const expiresAt = Date.parse(rolled.body.previous.expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(0);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(2_000);

    expect((await list(old.key)).status).toBe(200);
    expect((await list(fresh)).status).toBe(200);
    await waitFor(() => Date.now() > expiresAt + 50, 5_000);
    const expired = await list(old.key);
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('api_key_expired');
    expect(keyWindows(old.key).filter((w) => expired.text.includes(w))).toEqual([]);
    expect((await list(fresh)).status).toBe(200);
  });

  it('through the proxy too: a key the proxy has cached is refused once its overlap ends, in the provider error shape', async () => {
    const old = await newSk('test');
    const c = await server.request('POST', '/v1/keys/connect', {
      key: old.key,
      body: { provider: 'openai', refId: 'roll_proxy', providerKey: 'sk-byo-test-valid' },
    });
    expect(c.status, c.text).toBe(200);
    const chat = (key: string) =>
      server.request('POST', '/v1/proxy/openai/chat/completions', {
        key,
        headers: { 'x-byo-ref-id': 'roll_proxy' },
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      });
    expect((await chat(old.key)).status).toBe(200); // both keys now cached by the proxy
    const rolled = await admin('POST', `/v1/admin/api-keys/${old.id}/roll`, { expiresInSeconds: 1 });
    expect(rolled.status, rolled.text).toBe(200);
    const fresh = rolled.body.key.key as string;
    issued.push(fresh);
    expect((await chat(old.key)).status).toBe(200);
    await waitFor(() => Date.now() > Date.parse(rolled.body.previous.expiresAt) + 50, 5_000);
    const refused = await chat(old.key);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-byo-error-source')).toBe('byo');
    expect(refused.body.error.code).toBe('api_key_expired');
    expect(keyWindows(old.key).filter((w) => refused.text.includes(w))).toEqual([]);
    expect((await chat(fresh)).status).toBe(200);
  });

  it('the rolled key serves the same project and mode', async () => {
    const old = await newSk('test');
    const rolled = await admin('POST', `/v1/admin/api-keys/${old.id}/roll`, { expiresInSeconds: 60 });
    const fresh = rolled.body.key.key as string;
    expect(fresh).toMatch(/^byo_sk_test_/);
    const c = await server.request('POST', '/v1/keys/connect', {
      key: fresh,
      body: { provider: 'openai', refId: 'roll_1', providerKey: 'sk-byo-test-valid' },
    });
    expect(c.status).toBe(200);
    const seen = await server.request('GET', '/v1/keys/openai/roll_1', { key: old.key });
    expect(seen.body.id).toBe(c.body.id);
  });

  it('with expiresInSeconds 0 the old key is refused on the very next request, although it was cached', async () => {
    const old = await newSk();
    for (let i = 0; i < 3; i++) expect((await list(old.key)).status).toBe(200);
    const rolled = await admin('POST', `/v1/admin/api-keys/${old.id}/roll`, { expiresInSeconds: 0 });
    expect(rolled.status).toBe(200);
    const next = await list(old.key);
    expect(next.status).toBe(401);
    expect((await list(rolled.body.key.key)).status).toBe(200);
  });

  it('defaults to a 24 h overlap, at most 7 days; a second roll never extends the first expiry', async () => {
    const old = await newSk();
    const first = await admin('POST', `/v1/admin/api-keys/${old.id}/roll`);
    expect(first.status, first.text).toBe(200);
    const in24h = Date.parse(first.body.previous.expiresAt) - Date.now();
    expect(in24h).toBeGreaterThan(86_400_000 - 60_000);
    expect(in24h).toBeLessThanOrEqual(86_400_000);
    const second = await admin('POST', `/v1/admin/api-keys/${old.id}/roll`, { expiresInSeconds: 7 * 86_400 });
    expect(second.status).toBe(200);
    expect(second.body.previous.expiresAt).toBe(first.body.previous.expiresAt);
    for (const expiresInSeconds of [-1, 7 * 86_400 + 1, 1.5]) {
      expect((await admin('POST', `/v1/admin/api-keys/${old.id}/roll`, { expiresInSeconds })).status).toBe(400);
    }
  });

  it('a publishable key can be rolled too', async () => {
    const res = await admin('POST', `/v1/admin/projects/${p.id}/api-keys`, { kind: 'pk', mode: 'live' });
    const rolled = await admin('POST', `/v1/admin/api-keys/${res.body.id}/roll`, { expiresInSeconds: 0 });
    expect(rolled.body.key.key).toMatch(/^byo_pk_live_/);
    const c = await server.request('POST', '/v1/keys/connect', {
      key: res.body.key,
      body: { provider: 'openai', refId: 'pk_roll', providerKey: 'sk-abcdefgh12345678' },
    });
    expect(c.status).toBe(401);
  });

  it('an unknown or revoked key cannot be rolled', async () => {
    expect((await admin('POST', '/v1/admin/api-keys/ak_nope/roll', {})).status).toBe(404);
    const k = await newSk();
    await admin('POST', `/v1/admin/api-keys/${k.id}/revoke`);
    const res = await admin('POST', `/v1/admin/api-keys/${k.id}/roll`, {});
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('api_key_not_found');
  });
});

describe('revoking a key', () => {
  it('takes effect on the next request, cache or not, and shows in the key list', async () => {
    const k = await newSk();
    for (let i = 0; i < 3; i++) expect((await list(k.key)).status).toBe(200);
    const res = await admin('POST', `/v1/admin/api-keys/${k.id}/revoke`);
    expect(res.status).toBe(200);
    expect(res.body.revokedAt).not.toBeNull();
    const next = await list(k.key);
    expect(next.status).toBe(401);
    expect(next.body.code).toBe('unauthorized');
    const keys = await admin('GET', `/v1/admin/projects/${p.id}/api-keys`);
    const row = keys.body.data.find((x: { id: string }) => x.id === k.id);
    expect(row.revokedAt).toBe(res.body.revokedAt);
    expect(JSON.stringify(keys.body)).not.toContain(k.key.slice(12, 30));
  });

  it('revoking twice keeps the first revocation time', async () => {
    const k = await newSk();
    const first = await admin('POST', `/v1/admin/api-keys/${k.id}/revoke`);
    const second = await admin('POST', `/v1/admin/api-keys/${k.id}/revoke`);
    expect(second.status).toBe(200);
    expect(second.body.revokedAt).toBe(first.body.revokedAt);
  });
});

describe.runIf(usingPostgres)('two instances on one database', () => {
  it('a revocation or a roll with 0 overlap on one instance reaches the other instance’s auth cache', async () => {
    const other = await startTestServer({
      BYO_DATABASE_SCHEMA: (server.app.services.config.BYO_DATABASE_SCHEMA as string) ?? `x_${randomBytes(4).toString('hex')}`,
      BYO_ADMIN_TOKEN: server.adminToken,
    });
    try {
      const a = await newSk();
      const b = await newSk();
      for (const k of [a, b]) expect((await other.request('GET', '/v1/keys', { key: k.key })).status).toBe(200);
      await admin('POST', `/v1/admin/api-keys/${a.id}/revoke`);
      await admin('POST', `/v1/admin/api-keys/${b.id}/roll`, { expiresInSeconds: 0 });
      for (const k of [a, b]) await waitFor(async () => (await other.request('GET', '/v1/keys', { key: k.key })).status === 401, 3_000);
    } finally {
      await other.close();
    }
  }, 180_000);
});
