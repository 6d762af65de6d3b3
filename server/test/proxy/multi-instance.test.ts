import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';

/** Two BYO instances on one PostgreSQL schema: key changes reach the other's cache (LISTEN/NOTIFY). */
describe.skipIf(!usingPostgres)('two instances on the same PostgreSQL', () => {
  let mock: MockUpstream;
  let a: TestServer;
  let b: TestServer;
  let project: TestProject;

  beforeAll(async () => {
    mock = await startMockUpstream();
    const shared = {
      ...mock.env,
      BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      BYO_WEBHOOKS: 'false',
    };
    a = await startTestServer(shared);
    b = await startTestServer(shared);
    project = await a.createProject();
  }, 180_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await mock?.close();
  });

  const client = (server: TestServer, refId: string) =>
    new OpenAI({
      apiKey: project.skLive,
      baseURL: `${server.url}/v1/proxy/openai`,
      defaultHeaders: { 'X-BYO-Ref-Id': refId },
      maxRetries: 0,
    });
  const connect = async (server: TestServer, refId: string, providerKey: string) => {
    const res = await server.request('POST', '/v1/keys/connect', { key: project.skLive, body: { provider: 'openai', refId, providerKey } });
    expect(res.status, res.text).toBe(200);
  };

  it('a key revoked on instance A is refused by instance B within a second', async () => {
    await connect(a, 'multi', 'sk-multi-instance-key-0001');
    await client(b, 'multi').models.list(); // B now holds the decrypted key in its cache
    const revoked = await a.request('POST', '/v1/keys/revoke', { key: project.skLive, body: { provider: 'openai', refId: 'multi' } });
    expect(revoked.status).toBe(200);
    const t0 = Date.now();
    let refusedAfter = -1;
    while (Date.now() - t0 < 1000) {
      const err = await client(b, 'multi')
        .models.list()
        .then(() => null)
        .catch((e: unknown) => e);
      if (err instanceof OpenAI.ConflictError && err.code === 'key_revoked') {
        refusedAfter = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusedAfter).toBeGreaterThanOrEqual(0);
    expect(refusedAfter).toBeLessThan(1000);
  });

  it('a key replaced on A is used by B at once', async () => {
    await connect(a, 'replaced', 'sk-first-key-000000000001');
    await client(b, 'replaced').models.list();
    expect(mock.last()?.headers.authorization).toBe('Bearer sk-first-key-000000000001');
    await connect(a, 'replaced', 'sk-second-key-00000000002');
    const t0 = Date.now();
    for (;;) {
      await client(b, 'replaced').models.list();
      if (mock.last()?.headers.authorization === 'Bearer sk-second-key-00000000002') break;
      expect(Date.now() - t0).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('a key disabled after a provider 401 seen on B is refused on A', async () => {
    await connect(a, 'rejected', 'sk-rejected-key-0000000001');
    await client(a, 'rejected').models.list(); // cached on A
    mock.intercept(
      { path: '/models', times: 1 },
      { status: 401, json: { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } } },
    );
    const first = await client(b, 'rejected')
      .models.list()
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.AuthenticationError);
    const t0 = Date.now();
    for (;;) {
      const err = await client(a, 'rejected')
        .models.list()
        .then(() => null)
        .catch((e: unknown) => e);
      if (err instanceof OpenAI.ConflictError && err.code === 'key_disabled') break;
      expect(Date.now() - t0).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
