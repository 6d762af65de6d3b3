import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestServer, usingPostgres } from '../helpers/server.js';
import { eventually } from '../proxy/support.js';

/**
 * Two instances on one PostgreSQL schema, both running the scheduler: every key is checked
 * about once per interval in all, never by both in the same interval (the claim is
 * `FOR UPDATE SKIP LOCKED` and moves `next_check_at` in the same statement).
 */
describe.skipIf(!usingPostgres)('key health on two instances', () => {
  const INTERVAL_MS = 1000;
  const KEYS = 40;
  let a: TestServer;
  let b: TestServer;
  let mock: MockUpstream;
  const probes = new Map<string, number[]>();

  beforeAll(async () => {
    mock = await startMockUpstream({ record: false });
    mock.intercept(
      (req) => req.path === '/models',
      (req, _res, helpers) => {
        const key = String(req.headers.authorization);
        probes.set(key, [...(probes.get(key) ?? []), Date.now()]);
        return helpers.defaultReply();
      },
    );
    const shared = {
      ...mock.env,
      BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      BYO_KEY_HEALTH_INTERVAL: `${INTERVAL_MS}ms`,
      BYO_WEBHOOKS: 'false',
    };
    a = await startTestServer(shared);
    b = await startTestServer(shared);
  }, 180_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await mock?.close();
  }, 120_000);

  const checksBy = async (s: TestServer) => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    return [...text.matchAll(/^byo_key_health_checks_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it('each key is checked once per interval, by one instance or the other', async () => {
    const project = await a.createProject({ validateOnConnect: false });
    for (let i = 0; i < KEYS; i++) {
      const res = await (i % 2 ? a : b).request('POST', '/v1/keys/connect', {
        key: project.skLive,
        body: { provider: 'openai', refId: `two_${i}`, providerKey: `sk-proj-twoInstances${String(i).padStart(12, '0')}` },
      });
      expect(res.status).toBe(200);
    }
    // Every key placed and checked once, then a few intervals more.
    await eventually(() => probes.size === KEYS, 10_000);
    const from = Date.now();
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 4));
    const to = Date.now();
    for (const [key, times] of probes) {
      for (let i = 1; i < times.length; i++) {
        // Never twice within (1 - jitter) of an interval: no instance checked a key the other had just checked.
        expect((times[i] as number) - (times[i - 1] as number), key).toBeGreaterThanOrEqual(INTERVAL_MS * 0.9 - 50);
      }
      // At least once per interval (the window holds four).
      expect(times.filter((t) => t >= from && t <= to).length, key).toBeGreaterThanOrEqual(3);
      expect(times.filter((t) => t >= from && t <= to).length, key).toBeLessThanOrEqual(5);
    }
    // Both instances took part.
    expect(await checksBy(a)).toBeGreaterThan(0);
    expect(await checksBy(b)).toBeGreaterThan(0);
  });
});
