import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../src/domain/events.js';
import { dispatcherOf } from '../../src/webhooks/feature.js';
import { startTestServer, type TestServer, usingPostgres } from '../helpers/server.js';
import { Receiver, verifyWithNodeSnippet } from './receiver.js';

/**
 * Two server instances on one PostgreSQL schema (same master keys) share the outbox and the
 * delivery queue: 1,000 events, written through both, reach a healthy receiver exactly once
 * each, and both instances take part in sending them.
 */

const servers: TestServer[] = [];
const receiver = new Receiver();
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await receiver.stop();
});

describe.runIf(usingPostgres)('several instances, one database', () => {
  it('delivers each of 1,000 events exactly once', async () => {
    await receiver.start();
    // A little latency at the receiver keeps both instances' slots busy at once.
    receiver.respond = async () => {
      await new Promise((r) => setTimeout(r, 2));
      return { status: 200, body: 'ok' };
    };
    const env = {
      BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
      BYO_ALLOW_HTTP_UPSTREAMS: 'true',
      BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      BYO_WEBHOOK_POLL_INTERVAL: '50ms',
      BYO_WEBHOOK_CONCURRENCY: '16',
      LOG_LEVEL: 'warn',
    };
    servers.push(await startTestServer(env));
    servers.push(await startTestServer(env));
    const [a, b] = servers as [TestServer, TestServer];
    const p = await a.createProject();
    const ep = await a.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: `${receiver.url}/hook` } });
    expect(ep.status, ep.text).toBe(200);
    const secret = ep.body.secret as string;

    // The events go straight into the outbox (as connect/revoke do, inside a transaction), 20 per
    // commit, alternating instances; the event sources themselves are tested in webhooks.test.ts.
    const N = 1000;
    for (let i = 0; i < N; i += 20) {
      const s = (i / 20) % 2 === 0 ? a : b;
      await s.app.services.db.transaction().execute(async (trx) => {
        for (let j = i; j < i + 20; j++) {
          await emitEvent(trx, {
            projectId: p.id,
            mode: 'test',
            type: 'key.connected',
            data: { provider: 'openai', refId: `cust_${j}`, keyHint: 'sk-...alid', replaced: false, by: 'secret_key' },
          });
        }
      });
      s.app.services.onEventsCommitted();
    }

    await receiver.waitFor(() => new Set(receiver.received.map((r) => r.body.id)).size >= N, 120_000, `${N} events`);
    // Anything sent twice would arrive within this settle time.
    await new Promise((r) => setTimeout(r, 1_000));

    const ids = receiver.received.map((r) => r.body.id);
    expect(new Set(ids).size).toBe(N);
    expect(ids).toHaveLength(N);
    const refIds = new Set(receiver.received.map((r) => r.body.data.refId));
    expect(refIds.size).toBe(N);
    for (const r of receiver.received) expect(verifyWithNodeSnippet(secret, r.rawBody, r.headers['x-byo-signature'])).toBe(true);

    const statsA = dispatcherOf(a.app.services)?.stats;
    const statsB = dispatcherOf(b.app.services)?.stats;
    expect((statsA?.succeeded ?? 0) + (statsB?.succeeded ?? 0)).toBe(N);
    expect(statsA?.succeeded).toBeGreaterThan(0);
    expect(statsB?.succeeded).toBeGreaterThan(0);

    const pending = await a.app.services.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '!=', 'succeeded')
      .executeTakeFirstOrThrow();
    expect(Number(pending.n)).toBe(0);
  }, 300_000);

  it('an instance without the dispatcher (BYO_WEBHOOKS=false) wakes the one that has it', async () => {
    const env = {
      BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
      BYO_ALLOW_HTTP_UPSTREAMS: 'true',
      BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      // Polling alone would take up to 30 s: only the NOTIFY can make this quick.
      BYO_WEBHOOK_POLL_INTERVAL: '30s',
    };
    const api = await startTestServer({ ...env, BYO_WEBHOOKS: 'false' });
    servers.push(api);
    servers.push(await startTestServer(env));
    expect(dispatcherOf(api.app.services)).toBeUndefined();
    const p = await api.createProject();
    const ep = await api.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: `${receiver.url}/wake` } });
    expect(ep.status, ep.text).toBe(200);
    // Let the dispatcher finish its start-up pass and go to sleep.
    await new Promise((r) => setTimeout(r, 1_000));
    const before = receiver.received.length;
    const t0 = Date.now();
    const res = await api.request('POST', '/v1/keys/connect', {
      key: p.skTest,
      body: { provider: 'openai', refId: 'cust_wake', providerKey: 'sk-byo-test-valid' },
    });
    expect(res.status).toBe(200);
    await receiver.waitFor(() => receiver.received.length > before, 60_000, 'the delivery');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(receiver.received.at(-1)?.body).toMatchObject({ type: 'key.connected', data: { refId: 'cust_wake' } });
  }, 300_000);
});
