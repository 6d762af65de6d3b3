import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, usingPostgres } from '../helpers/server.js';
import { bothValid, Receiver } from './receiver.js';

/**
 * A server is SIGKILLed while its attempt is at the receiver (sent, not yet answered). Another
 * instance on the same PostgreSQL sends the delivery again once the claim's lease expires, with
 * the same event id (at least once, nothing lost).
 */

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(`${serverDir}node_modules/tsx/dist/esm/index.mjs`).href;

let child: ChildProcess | undefined;
let other: TestServer | undefined;
const receiver = new Receiver();
afterAll(async () => {
  child?.kill('SIGKILL');
  await other?.close();
  await receiver.stop();
});

function startChild(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', tsx, `${serverDir}src/main.ts`, 'start'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1] as string });
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${out.slice(-2000)}`)));
  });
}

describe.runIf(usingPostgres)('a crash mid-attempt', () => {
  it('is redelivered by another instance after the lease expires, with the same event id', async () => {
    await receiver.start();
    let release: (() => void) | undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    // The first attempt is held open (the sender dies waiting); later ones are answered.
    receiver.respond = async (_r, n) => {
      if (n === 1) await held;
      return { status: 200, body: 'ok' };
    };
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: process.env.DATABASE_URL as string,
      BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
      BYO_ALLOW_HTTP_UPSTREAMS: 'true',
      BYO_SEED_DEV_PROJECT: 'false',
      BYO_WEBHOOK_TIMEOUT: '1s',
      BYO_WEBHOOK_POLL_INTERVAL: '100ms',
      LOG_LEVEL: 'warn',
    };
    const started = await startChild(env);
    child = started.proc;
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${started.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const created = await call('POST', '/v1/admin/projects', env.BYO_ADMIN_TOKEN, { name: 'crash' });
    const sk = created.body.keys.find((k: { kind: string; mode: string }) => k.kind === 'sk' && k.mode === 'test').key as string;
    const ep = await call('POST', '/v1/webhooks/endpoints', sk, { url: `${receiver.url}/hook` });
    expect(ep.status).toBe(200);
    const conn = await call('POST', '/v1/keys/connect', sk, { provider: 'openai', refId: 'cust_crash', providerKey: 'sk-byo-test-valid' });
    expect(conn.status).toBe(200);

    await receiver.waitFor(() => receiver.received.length >= 1, 30_000, 'first attempt');
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    child = undefined;
    release?.();

    // The claim the dead server held: nobody may send the delivery again before it runs out.
    const pgc = new pg.Client({ connectionString: env.DATABASE_URL });
    await pgc.connect();
    const lease = await pgc.query(`select locked_until, attempts from "${env.BYO_DATABASE_SCHEMA}".webhook_deliveries`);
    await pgc.end();
    expect(lease.rows).toHaveLength(1);
    expect(lease.rows[0].attempts).toBe(1);
    const leaseEnd = (lease.rows[0].locked_until as Date).getTime();
    expect(leaseEnd).toBeGreaterThan(Date.now());

    other = await startTestServer(env);
    await receiver.waitFor(() => receiver.received.length >= 2, 60_000, 'the attempt again');
    const [first, second] = receiver.received;
    expect(second?.body.id).toBe(first?.body.id);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(bothValid(ep.body.secret, second as never)).toBe(true);
    // Not before the lease (2 x 1 s + 10 s from the claim) ran out.
    expect(second?.at).toBeGreaterThanOrEqual(leaseEnd - 50);
    const list = await other.request('GET', '/v1/webhooks/deliveries', { key: sk });
    expect(list.body.data[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
  }, 180_000);
});
