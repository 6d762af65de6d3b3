import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, usingPostgres } from '../helpers/server.js';
import { bothValid, Receiver } from './receiver.js';

/**
 * The receiver is down while the server stops and starts again on the same database
 * (PostgreSQL, or an on-disk PGlite in a temp folder, with the same master key): every event,
 * including ones written just before the stop, still arrives afterwards.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'byo-wh-restart-'));
const env = {
  BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
  BYO_ALLOW_HTTP_UPSTREAMS: 'true',
  // Many short retries: the receiver stays down for a few seconds without exhausting them.
  BYO_WEBHOOK_SCHEDULE: '0,300ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
  BYO_WEBHOOK_POLL_INTERVAL: '50ms',
  BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
  ...(usingPostgres
    ? { BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}` }
    : { BYO_EMBEDDED_STORAGE: 'disk', BYO_DATA_DIR: dataDir }),
};

let server: TestServer | undefined;
const receiver = new Receiver();
afterAll(async () => {
  await server?.close();
  await receiver.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('durability across a restart', () => {
  it('delivers every event once the receiver is back, after the server restarted', async () => {
    // Reserve a port, then take the receiver down.
    await receiver.start();
    const port = receiver.port;
    await receiver.stop();

    server = await startTestServer(env);
    const p = await server.createProject();
    const ep = await server.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: `http://127.0.0.1:${port}/hook` } });
    expect(ep.status, ep.text).toBe(200);
    const secret = ep.body.secret as string;
    const call = (path: string, refId: string, providerKey?: string) =>
      server?.request('POST', path, {
        key: p.skTest,
        body: { provider: 'openai', refId, ...(path.endsWith('/connect') ? { providerKey: providerKey ?? 'sk-byo-test-valid' } : {}) },
      });

    for (const refId of ['a', 'b', 'c']) expect((await call('/v1/keys/connect', refId))?.status).toBe(200);
    expect((await call('/v1/keys/revoke', 'a'))?.status).toBe(200);
    expect((await call('/v1/keys/connect', 'bad', 'sk-byo-test-invalid'))?.status).toBe(200);
    expect((await call('/v1/keys/validate', 'bad'))?.body.result).toBe('invalid');

    // Wait until every delivery has failed at least once (connection refused).
    const until = Date.now() + 30_000;
    for (;;) {
      const list = await server.request('GET', '/v1/webhooks/deliveries', { key: p.skTest });
      const ds = list.body.data as { attempts: number; status: string; lastError: string | null }[];
      if (ds.length === 6 && ds.every((d) => d.attempts >= 1 && d.status === 'pending' && d.lastError)) {
        for (const d of ds) expect(d.lastError).toMatch(/refused/);
        break;
      }
      if (Date.now() > until) throw new Error(`deliveries did not fail as expected: ${list.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Two more events right before the stop: fanned out or not, they must survive.
    expect((await call('/v1/keys/connect', 'd'))?.status).toBe(200);
    expect((await call('/v1/keys/connect', 'e'))?.status).toBe(200);
    await server.close();
    server = undefined;

    await receiver.start(port);
    server = await startTestServer(env);
    await receiver.waitFor(() => new Set(receiver.received.map((r) => r.body.id)).size >= 8, 60_000, '8 events');
    await new Promise((r) => setTimeout(r, 500));

    const types = receiver.received.map((r) => `${r.body.type}:${r.body.data.refId}`).sort();
    expect(types).toEqual(
      [
        'key.connected:a',
        'key.connected:b',
        'key.connected:c',
        'key.revoked:a',
        'key.connected:bad',
        'key.disabled:bad',
        'key.connected:d',
        'key.connected:e',
      ].sort(),
    );
    for (const r of receiver.received) expect(bothValid(secret, r)).toBe(true);
    const list = await server.request('GET', '/v1/webhooks/deliveries?limit=100', { key: p.skTest });
    expect(list.body.data).toHaveLength(8);
    for (const d of list.body.data) expect(d.status).toBe('succeeded');
  }, 300_000);
});
