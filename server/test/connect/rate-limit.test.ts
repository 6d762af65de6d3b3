import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestResponse, type TestServer, usingPostgres } from '../helpers/server.js';
import { canaryKey, expectNoLeaks } from '../helpers/support.js';

/** Publishable-key connects are rate-limited per key and per client IP. */

const PER_KEY = 5;
const PER_IP = 8;
let server: TestServer;
const canaries: string[] = [];
let n = 0;

beforeAll(async () => {
  server = await startTestServer({
    BYO_RATE_LIMIT_CONNECT_PER_KEY: String(PER_KEY),
    BYO_RATE_LIMIT_CONNECT_PER_IP: String(PER_IP),
    BYO_RATE_LIMIT_WINDOW: '60s',
  });
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
}, 180_000);

const APP = 'https://app.example.com';

/** A connect as a browser on the project's allowed origin sends it (without one a pk is refused). */
function connect(key: string, headers: Record<string, string> = { origin: APP }): Promise<TestResponse> {
  const providerKey = canaryKey('rl');
  canaries.push(providerKey);
  return server.request('POST', '/v1/keys/connect', { key, headers, body: { provider: 'openai', refId: `rl_${++n}`, providerKey } });
}

function expect429(res: TestResponse) {
  expect(res.status, res.text).toBe(429);
  expect(res.body.code).toBe('rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.body.requestId).toBe(res.headers.get('x-byo-request-id'));
}

describe('publishable-key connect rate limits', () => {
  let a: TestProject;
  let b: TestProject;

  it('a publishable key gets PER_KEY connects per window, then 429 with Retry-After', async () => {
    a = await server.createProject({ allowedOrigins: [APP] });
    b = await server.createProject({ allowedOrigins: [APP] });
    for (let i = 0; i < PER_KEY; i++) expect((await connect(a.pkLive)).status).toBe(200);
    expect429(await connect(a.pkLive));
    // Still limited; the allowed browser origin can read the 429.
    const again = await connect(a.pkLive);
    expect429(again);
    expect(again.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('the limit is per key: another publishable key still connects, until the per-IP limit', async () => {
    // A's 7 attempts consumed 7 of the 8 IP points.
    expect((await connect(b.pkLive)).status).toBe(200);
    expect429(await connect(b.pkLive));
    expect429(await connect(b.pkTest));
  });

  it('a rate-limited request stores nothing', async () => {
    const before = await server.app.services.db
      .selectFrom('provider_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect429(await connect(a.pkLive));
    const after = await server.app.services.db
      .selectFrom('provider_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('secret-key connects are not limited by the publishable limits', async () => {
    for (let i = 0; i < PER_IP + 2; i++) expect((await connect(a.skLive)).status).toBe(200);
  });

  it('bad keys are refused before the limiter (401, not 429)', async () => {
    // Another last character (a fixed 'x' left the key unchanged, and valid, when it ended in 'x').
    const last = a.pkLive.at(-1) === 'x' ? 'y' : 'x';
    const res = await connect(`${a.pkLive.slice(0, -1)}${last}`);
    expect(res.status).toBe(401);
  });

  it('counts in PostgreSQL without Redis, so all workers and instances share the counters; PGlite (one process) in memory', async () => {
    const { rateLimits, db } = server.app.services;
    const rows = await db.selectFrom('rate_limits').select(['key', 'points', 'expire']).execute();
    if (!usingPostgres) {
      expect(rateLimits.store).toBe('memory');
      expect(rows).toEqual([]);
      return;
    }
    expect(rateLimits.store).toBe('postgres');
    const pkId = a.keys.find((k) => k.kind === 'pk' && k.mode === 'live')?.id;
    const pk = rows.find((r) => r.key === `pk:${pkId}`);
    // Its PER_KEY successes; once spent, refusals are answered from this process's memory
    // until the window ends, without a round trip to the database.
    expect(pk?.points).toBe(PER_KEY);
    expect(Number(pk?.expire)).toBeGreaterThan(Date.now());
    expect(rows.filter((r) => r.key.startsWith('ip:'))).toHaveLength(1);
  });

  it.runIf(usingPostgres)('the prune deletes the counters of ended windows and keeps the running ones', async () => {
    const { rateLimits, db } = server.app.services;
    const pkId = a.keys.find((k) => k.kind === 'pk' && k.mode === 'live')?.id;
    await db
      .updateTable('rate_limits')
      .set({ expire: String(Date.now() - 1000) })
      .where('key', '=', `pk:${pkId}`)
      .execute();
    await rateLimits.pruneExpired();
    const keys = (await db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key);
    expect(keys).not.toContain(`pk:${pkId}`);
    expect(keys.filter((k) => k.startsWith('ip:'))).toHaveLength(1);
  });
});
