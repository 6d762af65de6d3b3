import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestResponse, type TestServer } from '../helpers/server.js';
import { canaryKey, expectNoLeaks, waitFor } from '../helpers/support.js';

/**
 * Connect rate limits, in memory and shared through Redis.
 * - One IP hammering a publishable key's connects must not spend the project's whole budget
 *   (the per-key counter was charged even for calls the per-IP check refused).
 * - Secret-key connects have a per-key per-second limit (429 with Retry-After).
 */

const PER_IP = 3;
const PER_KEY = 6;
const PER_SK = 5;
const APP = 'https://app.example.com';

for (const store of ['memory', 'redis'] as const) {
  describe(`connect rate limits (${store})`, () => {
    let server: TestServer;
    let p: TestProject;
    let other: TestProject;
    const canaries: string[] = [];
    let n = 0;

    beforeAll(async () => {
      server = await startTestServer({
        BYO_TRUST_PROXY: 'true',
        BYO_RATE_LIMIT_CONNECT_PER_IP: String(PER_IP),
        BYO_RATE_LIMIT_CONNECT_PER_KEY: String(PER_KEY),
        BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY: String(PER_SK),
        BYO_RATE_LIMIT_WINDOW: '60s',
        // A prefix of this run's own, so no other run's counters mix in.
        ...(store === 'redis' ? { REDIS_URL: 'redis://127.0.0.1:6379', BYO_REDIS_PREFIX: `byo_rl_${randomBytes(6).toString('hex')}` } : {}),
      });
      if (store === 'redis') await waitFor(() => server.app.services.rateLimits.store === 'ready', 30_000);
      p = await server.createProject({ allowedOrigins: [APP] });
      other = await server.createProject({ allowedOrigins: [APP] });
    }, 180_000);

    afterAll(async () => {
      if (!server) return;
      await expectNoLeaks(server, canaries);
      await server.close();
    }, 180_000);

    function connect(key: string, headers: Record<string, string>): Promise<TestResponse> {
      const providerKey = canaryKey('rl');
      canaries.push(providerKey);
      return server.request('POST', '/v1/keys/connect', { key, headers, body: { provider: 'openai', refId: `rl_${++n}`, providerKey } });
    }
    const fromIp = (ip: string) => ({ origin: APP, 'x-forwarded-for': ip });

    function expect429(res: TestResponse) {
      expect(res.status, res.text).toBe(429);
      expect(res.body.code).toBe('rate_limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }

    it("one IP hammering a publishable key does not spend the other customers' budget", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < PER_KEY * 4; i++) statuses.push((await connect(p.pkLive, fromIp('198.51.100.7'))).status);
      expect(statuses.slice(0, PER_IP)).toEqual(Array(PER_IP).fill(200));
      expect(statuses.slice(PER_IP)).toEqual(Array(PER_KEY * 4 - PER_IP).fill(429));
      // A second customer, on another IP, still connects (before: 429, the key's budget was spent).
      for (let i = 0; i < PER_KEY - PER_IP; i++) {
        const res = await connect(p.pkLive, fromIp('203.0.113.20'));
        expect(res.status, res.text).toBe(200);
      }
      // The key's budget still counts the calls that passed: spent now, for any IP.
      expect429(await connect(p.pkLive, fromIp('192.0.2.30')));
    });

    it('secret-key connects are limited per key and per second, with Retry-After', async () => {
      const results = await Promise.all(Array.from({ length: PER_SK * 3 }, () => connect(other.skLive, {})));
      const ok = results.filter((r) => r.status === 200).length;
      // A burst may straddle two one-second windows, so up to twice the limit may pass.
      expect(ok).toBeGreaterThanOrEqual(PER_SK);
      expect(ok).toBeLessThanOrEqual(PER_SK * 2);
      const refused = results.filter((r) => r.status !== 200);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect429(r);
        expect(Number(r.headers.get('retry-after'))).toBe(1);
      }
      // Another secret key has its own budget.
      const res = await connect(other.skTest, {});
      expect(res.status, res.text).toBe(200);
    });
  });
}
