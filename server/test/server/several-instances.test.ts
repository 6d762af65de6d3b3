import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestServer, usingPostgres } from '../helpers/server.js';
import { Receiver } from '../webhooks/receiver.js';
import { send } from '../helpers/http.js';

/**
 * Several instances: two servers on one PostgreSQL schema with the same
 * master keys, no load balancer, the test alternating between them. What one instance
 * changes, the other honours within a second (API-key revocation and rolls, project
 * settings, provider keys); publishable-key rate limits are shared through Redis; webhook
 * retries are delivered once per attempt. (The proxy's key-cache invalidation, 1,000 events
 * delivered exactly once and the per-key Redis limit have their own tests in test/proxy,
 * test/webhooks and test/connect.)
 */

describe.skipIf(!usingPostgres)('two instances on one PostgreSQL schema', () => {
  let a: TestServer;
  let b: TestServer;
  let mock: MockUpstream;
  const receiver = new Receiver();
  const PER_IP = 12;

  beforeAll(async () => {
    mock = await startMockUpstream();
    await receiver.start();
    const shared = {
      ...mock.env,
      BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      REDIS_URL: 'redis://127.0.0.1:6379',
      BYO_RATE_LIMIT_CONNECT_PER_IP: String(PER_IP),
      BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000',
      // Behind a (pretend) proxy, so the rate-limit test can use a client address of its own.
      BYO_TRUST_PROXY: 'true',
      BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
      BYO_ALLOW_HTTP_UPSTREAMS: 'true',
      BYO_WEBHOOK_SCHEDULE: '0,300ms,300ms,300ms',
      BYO_WEBHOOK_POLL_INTERVAL: '50ms',
    };
    a = await startTestServer(shared);
    b = await startTestServer(shared);
  }, 180_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await mock?.close();
    await receiver.stop();
  }, 120_000);

  const within = async (what: string, ms: number, fn: () => Promise<boolean>) => {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      if (await fn()) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${what}: not within ${ms} ms`);
  };
  const list = (s: TestServer, key: string) => s.request('GET', '/v1/keys', { key });
  const proxied = (s: TestServer, key: string, refId: string) =>
    send(s.url, {
      method: 'POST',
      path: '/v1/proxy/openai/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('an API key revoked on A is refused by B (REST and proxy) within a second, though B had it cached', async () => {
    const p = await a.createProject();
    await b.request('POST', '/v1/keys/connect', {
      key: p.skLive,
      body: { provider: 'openai', refId: 'r1', providerKey: 'sk-proj-multiInstance000000000000' },
    });
    expect((await list(b, p.skLive)).status).toBe(200);
    expect((await proxied(b, p.skLive, 'r1')).status).toBe(200);
    const sk = p.keys.find((k) => k.kind === 'sk' && k.mode === 'live');
    const revoke = await a.request('POST', `/v1/admin/api-keys/${sk?.id}/revoke`, { key: a.adminToken });
    expect(revoke.status, revoke.text).toBe(200);
    const ms = await within('B refuses the revoked key', 1000, async () => (await list(b, p.skLive)).status === 401);
    expect(ms).toBeLessThan(1000);
    expect((await proxied(b, p.skLive, 'r1')).status).toBe(401);
  });

  it('a roll with no overlap on B ends the old key on A at once; the new key works on A', async () => {
    const p = await a.createProject();
    expect((await list(a, p.skTest)).status).toBe(200); // cached on A
    const sk = p.keys.find((k) => k.kind === 'sk' && k.mode === 'test');
    const roll = await b.request('POST', `/v1/admin/api-keys/${sk?.id}/roll`, { key: b.adminToken, body: { expiresInSeconds: 0 } });
    expect(roll.status, roll.text).toBe(200);
    await within('A refuses the rolled key', 1000, async () => (await list(a, p.skTest)).status === 401);
    expect((await list(a, roll.body.key.key)).status).toBe(200);
  });

  it('a project setting changed on A is enforced by B within a second', async () => {
    const p = await a.createProject();
    const connect = (s: TestServer, refId: string) =>
      s.request('POST', '/v1/keys/connect', { key: p.pkTest, body: { provider: 'openai', refId, providerKey: 'sk-byo-test-valid' } });
    expect((await connect(b, 'open_1')).status).toBe(200);
    const upd = await a.request('PATCH', `/v1/admin/projects/${p.id}`, {
      key: a.adminToken,
      body: { publishableConnect: 'token_required' },
    });
    expect(upd.status, upd.text).toBe(200);
    let n = 0;
    await within('B requires a connect token', 1000, async () => (await connect(b, `open_${++n + 1}`)).status === 403);
  });

  it('alternating writes and reads: each instance sees the other’s writes at once', async () => {
    const p = await a.createProject();
    for (let i = 0; i < 20; i++) {
      const [w, r] = i % 2 === 0 ? [a, b] : [b, a];
      const refId = `alt_${i}`;
      const c = await w.request('POST', '/v1/keys/connect', {
        key: p.skTest,
        body: { provider: 'openai', refId, providerKey: 'sk-byo-test-valid' },
      });
      expect(c.status).toBe(200);
      expect((await r.request('GET', `/v1/keys/openai/${refId}`, { key: p.skTest })).body.status).toBe('active');
      expect((await proxied(r, p.skTest, refId)).status).toBe(200);
      expect((await r.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId } })).status).toBe(200);
      const refused = await proxied(w, p.skTest, refId);
      expect(refused.status, `proxy on the writer after a revoke on the other, round ${i}`).toBe(409);
    }
    const [la, lb] = await Promise.all([list(a, p.skTest), list(b, p.skTest)]);
    expect(la.body.data.map((k: { refId: string; status: string }) => `${k.refId}:${k.status}`).sort()).toEqual(
      lb.body.data.map((k: { refId: string; status: string }) => `${k.refId}:${k.status}`).sort(),
    );
  });

  it('the per-IP connect limit is shared through Redis: both instances together accept at most the limit', async () => {
    const p = await a.createProject();
    const ip = `198.51.100.${1 + ((randomBytes(1)[0] as number) % 250)}`;
    const results: number[] = [];
    for (let i = 0; i < PER_IP * 2; i++) {
      const s = i % 2 === 0 ? a : b;
      const r = await s.request('POST', '/v1/keys/connect', {
        key: p.pkTest,
        headers: { 'x-forwarded-for': ip },
        body: { provider: 'openai', refId: `ip_${i}`, providerKey: 'sk-byo-test-valid' },
      });
      results.push(r.status);
      if (r.status === 429) expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(results.filter((s) => s === 200)).toHaveLength(PER_IP);
    expect(results.filter((s) => s === 429)).toHaveLength(PER_IP);
  });

  it('webhook retries across both dispatchers: every attempt is delivered once, with one webhook-id per event', async () => {
    const p = await a.createProject();
    const ep = await a.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: `${receiver.url}/multi` } });
    expect(ep.status, ep.text).toBe(200);
    // First attempt of each event fails, the second succeeds.
    const attemptsSeen = new Map<string, number>();
    receiver.respond = (r) => {
      const n = (attemptsSeen.get(r.body.id) ?? 0) + 1;
      attemptsSeen.set(r.body.id, n);
      return { status: n === 1 ? 500 : 200, body: 'x' };
    };
    const N = 20;
    for (let i = 0; i < N; i++) {
      const s = i % 2 === 0 ? a : b;
      const r = await s.request('POST', '/v1/keys/connect', {
        key: p.skTest,
        body: { provider: 'openai', refId: `wh_${i}`, providerKey: 'sk-byo-test-valid' },
      });
      expect(r.status).toBe(200);
    }
    const mine = () => receiver.received.filter((r) => r.path === '/multi');
    await receiver.waitFor(() => [...attemptsSeen.values()].filter((n) => n >= 2).length >= N, 60_000, 'two attempts per event');
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would arrive in this time
    const byEvent = new Map<string, { ids: Set<string>; count: number }>();
    for (const r of mine()) {
      const e = byEvent.get(r.body.id) ?? { ids: new Set<string>(), count: 0 };
      e.count++;
      e.ids.add(String(r.headers['webhook-id']));
      byEvent.set(r.body.id, e);
    }
    expect(byEvent.size).toBe(N);
    for (const [id, e] of byEvent) {
      expect(e.count, `event ${id}`).toBe(2);
      expect(e.ids.size, `event ${id}`).toBe(1);
    }
  }, 120_000);

  it('neither instance logged an unexpected error', () => {
    for (const s of [a, b]) {
      const errors = s.logs.filter((l) => /"level":(50|60)/.test(l));
      expect(errors, errors.join('\n')).toEqual([]);
    }
  });
});
