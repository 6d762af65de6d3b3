import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, usingPostgres } from '../helpers/server.js';
import { callOnNewConnection, type ServerProcess, startTwoWorkers } from '../helpers/support.js';

/**
 * `BYO_WORKERS=2` on PostgreSQL without Redis: the connect and sign-in rate limits are counted
 * in the database, so the workers together allow what one process would, not that much each.
 */

const ADMIN = `byo_admin_${randomBytes(24).toString('hex')}`;
const APP = 'https://app.example.com';
const PER_KEY = 6;

describe.runIf(usingPostgres)('rate limits with BYO_WORKERS=2 on PostgreSQL, no Redis', () => {
  const schema = `rlw_${randomBytes(4).toString('hex')}`;
  let server: ServerProcess;
  let url = '';
  const call = (path: string, init: Parameters<typeof callOnNewConnection>[2]) =>
    callOnNewConnection(url, path, { method: 'POST', ...init });

  beforeAll(async () => {
    ({ server, url } = await startTwoWorkers({
      BYO_DATABASE_SCHEMA: schema,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: ADMIN,
      BYO_RATE_LIMIT_CONNECT_PER_KEY: String(PER_KEY),
      BYO_RATE_LIMIT_CONNECT_PER_IP: '1000',
      BYO_RATE_LIMIT_WINDOW: '60s',
    }));
  }, 180_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exit;
    }
    await dropSchema(schema);
  }, 60_000);

  it('a publishable key gets PER_KEY connects between both workers, then 429 rate_limited with Retry-After', async () => {
    const created = await call('/v1/admin/projects', { key: ADMIN, body: { name: 'limits', allowedOrigins: [APP] } });
    expect(created.status, created.text).toBe(200);
    const keys = created.json().keys as { kind: string; mode: string; key: string }[];
    const pk = keys.find((k) => k.kind === 'pk' && k.mode === 'live')?.key ?? '';

    // Calls in turn on new connections: with per-process counters each worker would accept PER_KEY.
    const statuses: number[] = [];
    for (let i = 0; i < PER_KEY * 2; i++) {
      const res = await call('/v1/keys/connect', {
        key: pk,
        headers: { origin: APP },
        body: { provider: 'openai', refId: `rlw_${i}`, providerKey: 'sk-byo-test-valid' },
      });
      statuses.push(res.status);
      if (res.status !== 429) continue;
      expect(res.json().code).toBe('rate_limited');
      const retryAfter = Number(res.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(statuses).toEqual([...Array(PER_KEY).fill(200), ...Array(PER_KEY).fill(429)]);
  }, 60_000);

  it('failed dashboard sign-ins are counted across the workers: the 11th attempt is refused', async () => {
    const attempt = (secret: string) => call('/trpc/dashboard.signIn', { headers: { origin: url }, body: { secret } });
    for (let i = 0; i < 10; i++) expect((await attempt(`byo_sk_test_wrong${i}`)).status).toBe(401);
    const locked = await attempt(ADMIN);
    expect(locked.status, locked.text).toBe(429);
    expect((locked.json().error as { data: { code: string } }).data.code).toBe('rate_limited');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  }, 60_000);
});
