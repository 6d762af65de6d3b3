import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOnNewConnection, killTwoWorkers, type ServerProcess, startTwoWorkers } from '../helpers/support.js';
import { dropSchema, usingPostgres } from '../helpers/server.js';

/**
 * A requests limit over BYO_WORKERS=2 on PostgreSQL: the counters are rows locked by one
 * statement per call, never per process, so exactly N of 5N concurrent calls spread over both
 * workers pass. The calls go to the sandbox (test mode, magic key), which is limited like
 * every route.
 */
const ADMIN = `byo_admin_${randomBytes(24).toString('hex')}`;

describe.runIf(usingPostgres)('spend limits over BYO_WORKERS=2 on PostgreSQL', () => {
  const schema = `limits_${randomBytes(4).toString('hex')}`;
  let server: ServerProcess;
  let url = '';
  let sk = '';

  const call = (path: string, init?: Parameters<typeof callOnNewConnection>[2]) => callOnNewConnection(url, path, init);

  beforeAll(async () => {
    ({ server, url } = await startTwoWorkers({
      BYO_DATABASE_SCHEMA: schema,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: ADMIN,
    }));
    const created = await call('/v1/admin/projects', { method: 'POST', key: ADMIN, body: { name: 'limits' } });
    expect(created.status).toBe(200);
    sk =
      (created.json().keys as { kind: string; mode: string; key: string }[]).find((k) => k.kind === 'sk' && k.mode === 'test')?.key ?? '';
    const connected = await call('/v1/keys/connect', {
      method: 'POST',
      key: sk,
      body: { provider: 'openai', refId: 'cust_w', providerKey: 'sk-byo-test-valid' },
    });
    expect(connected.status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    killTwoWorkers(server);
    await dropSchema(schema);
  });

  it('exactly N of 5N concurrent calls pass, whichever worker serves them', async () => {
    const N = 8;
    const set = await call('/v1/customers/cust_w/limits', {
      method: 'PUT',
      key: sk,
      body: { limits: [{ metric: 'requests', window: 'day', max: N }] },
    });
    expect(set.status, set.text).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 5 * N }, () =>
        call('/v1/proxy/openai/chat/completions', {
          method: 'POST',
          key: sk,
          headers: { 'x-byo-ref-id': 'cust_w' },
          body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(N);
    expect(results.filter((r) => r.status === 429)).toHaveLength(4 * N);
    const state = await call('/v1/customers/cust_w/limits', { key: sk });
    expect(state.json()).toMatchObject({ limits: [{ used: N, remaining: 0 }] });
  }, 60_000);
});
