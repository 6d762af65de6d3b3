import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { send } from '../helpers/http.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * The other side of dropping refused rows: a database that cannot be reached
 * is not a refusal. The usage of calls proxied during an outage (their key cached) waits in
 * memory and is written once the database is back; nothing is dropped. PostgreSQL only: the
 * server reaches it through a TCP proxy the test cuts.
 */

describe.skipIf(!usingPostgres)('usage recorded during a database outage', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  let project: TestProject;

  beforeAll(async () => {
    const target = new URL(process.env.DATABASE_URL ?? '');
    proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
    server = await startTestServer({
      DATABASE_URL: proxy.url(target.pathname.slice(1) || 'test'),
      BYO_KEY_CACHE_TTL: '10m',
      BYO_DATABASE_QUERY_TIMEOUT: '2s',
      BYO_USAGE_FLUSH_INTERVAL: '100ms',
      BYO_WEBHOOKS: 'false',
    });
    project = await server.createProject();
    const r = await server.request('POST', '/v1/keys/connect', {
      key: project.skTest,
      body: { provider: 'openai', refId: 'outage', providerKey: 'sk-byo-test-valid' },
    });
    expect(r.status, r.text).toBe(200);
  }, 120_000);

  afterAll(async () => {
    proxy?.set('pass');
    await server?.close();
    await proxy?.close();
  }, 60_000);

  const proxied = () =>
    send(server.url, {
      method: 'POST',
      path: '/v1/proxy/openai/chat/completions',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': 'outage', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('keeps the rows while the database is unreachable and writes them when it is back', async () => {
    expect((await proxied()).status).toBe(200); // warms the caches
    proxy.set('reset');
    for (let i = 0; i < 5; i++) expect((await proxied()).status).toBe(200);
    // Several flushes fail meanwhile (each is a connection error, not a refusal).
    await new Promise((r) => setTimeout(r, 2500));
    proxy.set('pass');
    let requests = 0;
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const res = await server.request('GET', '/v1/usage?refId=outage', { key: project.skTest });
      if (res.status === 200) {
        requests = res.body.totals.requests;
        if (requests >= 6) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(requests).toBe(6);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^byo_usage_records_dropped_total 0$/m);
    expect(metrics).not.toMatch(/^byo_usage_rows_dropped_total\{/m);
    expect(server.logs.some((l) => l.includes('could not write usage records; will retry'))).toBe(true);
  }, 60_000);
});
