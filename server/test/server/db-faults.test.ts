import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { send } from '../helpers/http.js';
import { startStubUpstream, type StubUpstream } from '../helpers/stub-upstream.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Database faults, PostgreSQL only: the server reaches PostgreSQL
 * through a node:net proxy the test can cut (a crash: connections reset, new ones refused)
 * or stall (a partition: bytes stop, nothing says so). `/readyz` reports it, requests that
 * need the database get a prompt 503 `database_unavailable` with Retry-After (no pile-up),
 * proxied calls whose keys are cached keep working, the server recovers by itself, and no
 * write is half-applied.
 */

const pgUrl = process.env.DATABASE_URL ?? '';
const QUERY_TIMEOUT_MS = 2000;

describe.skipIf(!usingPostgres)('database faults (PostgreSQL through a TCP proxy)', () => {
  let proxy: TcpProxy;
  let upstream: StubUpstream;
  let server: TestServer;
  let project: TestProject;
  let schema: string;

  beforeAll(async () => {
    const target = new URL(pgUrl);
    proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
    upstream = await startStubUpstream();
    server = await startTestServer({
      DATABASE_URL: proxy.url(target.pathname.slice(1) || 'test'),
      BYO_OPENAI_BASE_URL: `${upstream.url}/v1`,
      BYO_KEY_CACHE_TTL: '10m',
      BYO_DATABASE_QUERY_TIMEOUT: `${QUERY_TIMEOUT_MS}ms`,
      BYO_WEBHOOKS: 'false',
    });
    schema = server.app.services.config.BYO_DATABASE_SCHEMA as string;
    project = await server.createProject();
    for (const [refId, providerKey] of [
      ['sbx', 'sk-byo-test-valid'],
      ['up', 'sk-upstream-dbfault-000000000000'],
    ] as const) {
      const r = await server.request('POST', '/v1/keys/connect', { key: project.skTest, body: { provider: 'openai', refId, providerKey } });
      expect(r.status, r.text).toBe(200);
    }
  }, 180_000);

  afterAll(async () => {
    proxy?.set('pass');
    await server?.close();
    await proxy?.close();
    await upstream?.close();
  }, 120_000);

  const proxied = (refId: string) =>
    send(server.url, {
      method: 'POST',
      path: '/v1/proxy/openai/chat/completions',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
  const listKeys = () => send(server.url, { method: 'GET', path: '/v1/keys', headers: { authorization: `Bearer ${project.skTest}` } });

  async function warmCaches() {
    // Authentication and both provider keys are now in memory.
    expect((await proxied('sbx')).status).toBe(200);
    expect((await proxied('up')).status).toBe(200);
    expect((await listKeys()).status).toBe(200);
  }

  async function until(what: string, fn: () => Promise<boolean>, withinMs: number): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < withinMs) {
      if (await fn().catch(() => false)) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what}: not within ${withinMs} ms`);
  }

  async function expectOutageBehaviour(label: string) {
    // /readyz says so (its ping gives up after 1 s).
    const ready = await send(server.url, { method: 'GET', path: '/readyz' });
    expect(ready.status, label).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ database: 'unreachable' });

    // One request on a warm pool (its idle connection is the broken one): a prompt 503.
    const one = performance.now();
    const single = await listKeys();
    expect(single.status, `${label}: ${single.text}`).toBe(503);
    expect(performance.now() - one, label).toBeLessThan(QUERY_TIMEOUT_MS + 4_000);

    // 40 requests that need the database at once: each gets a prompt 503, none piles up.
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 40 }, () => listKeys()));
    const elapsed = performance.now() - started;
    for (const a of answers) {
      expect(a.status, `${label}: ${a.text}`).toBe(503);
      expect(JSON.parse(a.text).code).toBe('database_unavailable');
      expect(a.headers['retry-after']).toBeDefined();
    }
    // connectionTimeoutMillis (3 s) or the query timeout (2 s here), plus generous slack.
    expect(elapsed, label).toBeLessThan(9_000);

    // Proxied calls whose key and caller are cached do not need the database.
    const sbx = await proxied('sbx');
    expect(sbx.status, `${label}: ${sbx.text}`).toBe(200);
    const up = await proxied('up');
    expect(up.status, `${label}: ${up.text}`).toBe(200);
  }

  it('a crashed database (connections reset, new ones refused): 503s, cached proxying, recovery', async () => {
    await warmCaches();
    proxy.set('reset');
    await expectOutageBehaviour('reset');
    proxy.set('pass');
    const ms = await until(
      'recovery after reset',
      async () => (await send(server.url, { method: 'GET', path: '/readyz' })).status === 200,
      10_000,
    );
    expect(ms).toBeLessThan(10_000);
    expect((await listKeys()).status).toBe(200);
  }, 60_000);

  it('a network partition (bytes stop, sockets stay open): 503s within the timeouts, no pile-up, recovery', async () => {
    await warmCaches();
    proxy.set('stall');
    await expectOutageBehaviour('stall');
    proxy.set('pass');
    await until('recovery after stall', async () => (await send(server.url, { method: 'GET', path: '/readyz' })).status === 200, 10_000);
    await until('requests succeed again', async () => (await listKeys()).status === 200, 10_000);
  }, 60_000);

  it('revocation still takes effect after the outage (cache invalidation reconnects)', async () => {
    await warmCaches();
    proxy.set('reset');
    await new Promise((r) => setTimeout(r, 500));
    proxy.set('pass');
    await until('ready', async () => (await send(server.url, { method: 'GET', path: '/readyz' })).status === 200, 10_000);
    const r = await server.request('POST', '/v1/keys/revoke', { key: project.skTest, body: { provider: 'openai', refId: 'up' } });
    expect(r.status, r.text).toBe(200);
    const after = await proxied('up');
    expect(after.status).toBe(409);
  }, 60_000);

  it('a connection lost while a request holds it (mid-transaction) fails that request, not the process', async () => {
    expect((await listKeys()).status).toBe(200);
    const { db } = server.app.services;
    const outcome = await db
      .transaction()
      .execute(async (trx) => {
        await sql`select 1`.execute(trx);
        proxy.set('reset'); // the held connection dies between two statements
        await new Promise((r) => setTimeout(r, 300));
        await sql`select 2`.execute(trx);
        return 'committed';
      })
      .catch((err: Error) => `failed: ${err.message}`);
    proxy.set('pass');
    expect(outcome).toMatch(/^failed/);
    // An uncaught 'error' event would have ended the process (vitest reports it as an unhandled error).
    await until('ready', async () => (await send(server.url, { method: 'GET', path: '/readyz' })).status === 200, 10_000);
  }, 60_000);

  it('no write is half-applied when the database dies mid-burst', async () => {
    const refs = Array.from({ length: 30 }, (_, i) => `burst_${i}`);
    // Writes go out one every 20 ms; the database dies as soon as the first one has landed.
    const writes = refs.map((refId, i) =>
      new Promise((r) => setTimeout(r, i * 20))
        .then(() =>
          server.request('POST', '/v1/keys/connect', {
            key: project.skTest,
            body: { provider: 'anthropic', refId, providerKey: `sk-ant-burst-${refId}-000000` },
          }),
        )
        .then((res) => {
          if (res.status === 200 && proxy.mode === 'pass') proxy.set('reset');
          return res;
        }),
    );
    const results = await Promise.all(writes);
    proxy.set('pass');
    await until('ready', async () => (await send(server.url, { method: 'GET', path: '/readyz' })).status === 200, 10_000);
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 503),
      JSON.stringify(statuses),
    ).toBe(true);

    // Straight to PostgreSQL (not through the proxy): every ref is all or nothing.
    const client = new pg.Client({ connectionString: pgUrl, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      for (const [i, refId] of refs.entries()) {
        const keys = await client.query("select id from provider_keys where provider = 'anthropic' and ref_id = $1", [refId]);
        const events = await client.query("select id from events where type = 'key.connected' and data->>'refId' = $1", [refId]);
        const audits = await client.query("select id from audit_log where action = 'key.connected' and target = any($1)", [
          keys.rows.map((k) => k.id),
        ]);
        const state = `${refId}: http ${statuses[i]}, ${keys.rowCount} key, ${events.rowCount} event, ${audits.rowCount} audit`;
        expect(keys.rowCount, state).toBeLessThanOrEqual(1);
        expect(events.rowCount, state).toBe(keys.rowCount);
        expect(audits.rowCount, state).toBe(keys.rowCount);
        if (statuses[i] === 200) expect(keys.rowCount, state).toBe(1);
      }
    } finally {
      await client.end();
    }
    // Some writes landed and some were refused: the fault really hit mid-burst.
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
  }, 60_000);

  it('stayed up throughout, with no unexpected error logged', () => {
    const errors = server.logs.filter((l) => /"level":(50|60)/.test(l) && !/database unavailable/.test(l));
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
