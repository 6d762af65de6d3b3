import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, usingPostgres } from '../helpers/server.js';
import {
  callOnNewConnection,
  type ServerProcess,
  startServerProcess,
  killTwoWorkers,
  startTwoWorkers,
  waitFor,
  workerPids,
} from '../helpers/support.js';

/**
 * `BYO_WORKERS` (node:cluster): one port served by several worker processes on one
 * PostgreSQL database, as an operator starts it. The server runs from source through tsx.
 */

const ADMIN = `byo_admin_${randomBytes(24).toString('hex')}`;
const masterKey = randomBytes(32).toString('base64');

const run = (env: Record<string, string>) => startServerProcess({ LOG_LEVEL: 'info', ...env });

it('more than one worker without PostgreSQL: exit 78, says to set DATABASE_URL', async () => {
  const p = run({ BYO_WORKERS: '2', BYO_EMBEDDED_STORAGE: 'memory' });
  expect(await p.exit).toBe(78);
  expect(p.stderr).toMatch(/BYO_WORKERS: more than 1 worker needs PostgreSQL \(set DATABASE_URL\)/);
}, 60_000);

describe.runIf(usingPostgres)('BYO_WORKERS=2 on PostgreSQL: a worker that cannot start', () => {
  it('stops the whole server with the exit code of the worker, not a restart loop', async () => {
    const schema = `cluster_${randomBytes(4).toString('hex')}`;
    try {
      // No BYO_MASTER_KEYS: the primary migrates, each worker refuses to start (exit 78).
      const p = run({ BYO_WORKERS: '2', PORT: '0', DATABASE_URL: process.env.DATABASE_URL ?? '', BYO_DATABASE_SCHEMA: schema });
      expect(await p.exit).toBe(78);
      expect(p.stderr).toMatch(/BYO_MASTER_KEYS is required with DATABASE_URL/);
      expect(p.stdout).toMatch(/a worker could not start; stopping the server/);
      expect(p.stderr).not.toMatch(/listening on/);
    } finally {
      await dropSchema(schema);
    }
  }, 120_000);
});

describe.runIf(usingPostgres)('BYO_WORKERS=2 on PostgreSQL', () => {
  const schema = `cluster_${randomBytes(4).toString('hex')}`;
  let server: ServerProcess;
  let url = '';
  let sk = '';

  const call = (path: string, init?: Parameters<typeof callOnNewConnection>[2]) => callOnNewConnection(url, path, init);

  const chat = () =>
    call('/v1/proxy/openai/chat/completions', {
      method: 'POST',
      key: sk,
      headers: { 'x-byo-ref-id': 'cust_1' },
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    });

  beforeAll(async () => {
    ({ server, url } = await startTwoWorkers({
      BYO_DATABASE_SCHEMA: schema,
      BYO_MASTER_KEYS: `k1:${masterKey}`,
      BYO_ADMIN_TOKEN: ADMIN,
    }));
    const created = await call('/v1/admin/projects', { method: 'POST', key: ADMIN, body: { name: 'cluster' } });
    expect(created.status).toBe(200);
    const keys = created.json().keys as { kind: string; mode: string; key: string }[];
    sk = keys.find((k) => k.kind === 'sk' && k.mode === 'test')?.key ?? '';
    const connected = await call('/v1/keys/connect', {
      method: 'POST',
      key: sk,
      body: { provider: 'openai', refId: 'cust_1', providerKey: 'sk-byo-test-valid' },
    });
    expect(connected.status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    killTwoWorkers(server);
    await dropSchema(schema);
  });

  it('two worker processes serve one port; /metrics from any of them counts the calls of both', async () => {
    expect(workerPids(server.child.pid ?? 0)).toHaveLength(2);
    const before = await proxiedCount();
    const results = await Promise.all(Array.from({ length: 20 }, () => chat()));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    // Every scrape, whichever worker answers it, sees all 20 calls.
    for (let i = 0; i < 4; i++) expect((await proxiedCount()) - before).toBe(20);
  }, 60_000);

  it('a worker that does not answer is left out of /metrics instead of failing the scrape', async () => {
    const [stuck] = workerPids(server.child.pid ?? 0);
    process.kill(stuck as number, 'SIGSTOP');
    try {
      // Two new connections: the primary hands them to the two workers in turn, so one of the
      // scrapes reaches the worker that still runs; it must answer, without the stuck one.
      const first = await Promise.race([call('/metrics'), call('/metrics')].map((p) => p.then((r) => ({ ...r, at: Date.now() }))));
      expect(first.status).toBe(200);
      expect(first.text).toMatch(/^byo_cluster_workers 2$/m);
      expect(first.text).toMatch(/^byo_cluster_workers_reporting 1$/m);
      expect(first.text).toMatch(/^byo_proxy_requests_total\{/m);
    } finally {
      process.kill(stuck as number, 'SIGCONT');
    }
    expect((await call('/metrics')).text).toMatch(/^byo_cluster_workers_reporting 2$/m);
  }, 60_000);

  it('a key revoked through one worker is refused by every worker', async () => {
    // Warm both workers' key caches first.
    for (const r of await Promise.all(Array.from({ length: 10 }, () => chat()))) expect(r.status).toBe(200);
    const revoked = await call('/v1/keys/revoke', { method: 'POST', key: sk, body: { provider: 'openai', refId: 'cust_1' } });
    expect(revoked.status).toBe(200);
    await waitFor(async () => {
      const rs = await Promise.all(Array.from({ length: 10 }, () => chat()));
      return rs.every((r) => r.status === 409 && /key_revoked/.test(r.text));
    }, 5_000);
  }, 60_000);

  it('a worker that dies is replaced; SIGTERM stops the primary and all workers with exit 0', async () => {
    const [victim, other] = workerPids(server.child.pid ?? 0);
    process.kill(victim as number, 'SIGKILL');
    await waitFor(() => server.stdout.includes('the replacement worker is listening'), 60_000);
    const now = workerPids(server.child.pid ?? 0);
    expect(now).toHaveLength(2);
    expect(now).not.toContain(victim);
    expect(now).toContain(other);
    expect(server.stdout).toMatch(/"workerPid":\d+,"code":null,"signal":"SIGKILL","msg":"a worker died; starting a replacement"/);
    // Both serve: calls on fresh connections all answer, and the proxied ones are counted by both.
    const before = await proxiedCount();
    const rs = await Promise.all(Array.from({ length: 10 }, () => chat()));
    expect(rs.map((r) => r.status)).toEqual(Array(10).fill(409));

    // The replacement's counters start at 0: the sum over the workers grows by the 10 calls.
    expect((await proxiedCount()) - before).toBe(10);

    const workers = workerPids(server.child.pid ?? 0);
    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
    // Nothing the primary or the workers printed holds a secret.
    for (const secret of [sk, ADMIN, masterKey]) expect(server.stdout + server.stderr).not.toContain(secret);
  }, 120_000);

  async function proxiedCount(): Promise<number> {
    const m = await call('/metrics');
    expect(m.status).toBe(200);
    let n = 0;
    for (const line of m.text.split('\n')) {
      const hit = /^byo_proxy_requests_total\{[^}]*\} (\d+)/.exec(line);
      if (hit) n += Number(hit[1]);
    }
    return n;
  }
});
