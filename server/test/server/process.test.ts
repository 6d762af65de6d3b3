import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canaryKey,
  findLeaks,
  type MockProvider,
  type ServerProcess,
  startMockProvider,
  startServerProcess,
  waitFor,
} from '../helpers/support.js';

/**
 * `byo-server` as a process : configuration errors, the embedded dev
 * mode's first start, and graceful shutdown. The server runs from source through tsx, so the
 * test needs no build.
 */

const dirs: string[] = [];
const outputs: string[] = [];

/** Starts `byo-server`; what it prints goes into the leak scan at the end of this file. */
function run(env: Record<string, string>, args: string[] = []): ServerProcess {
  const p = startServerProcess(env, args);
  void p.exit.then(() => outputs.push(p.stdout, p.stderr));
  return p;
}

async function listening(p: ServerProcess): Promise<string> {
  let url = '';
  await waitFor(
    () => {
      const m = /listening on (http:\/\/\S+)/.exec(p.stderr);
      if (m) url = m[1] as string;
      if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}: ${p.stderr}`);
      return Boolean(m);
    },
    120_000,
    100,
  );
  return url;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'byo-proc-'));
  dirs.push(d);
  return d;
}

const mode = (path: string) => statSync(path).mode & 0o777;

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.concurrent('configuration errors stop the start', () => {
  it('a bad variable: exit 78, the message names it and not its value', async () => {
    const p = run({ PORT: 'eighty', BYO_ADMIN_TOKEN: 'short-secret-42', BYO_DATA_DIR: tempDir() });
    expect(await p.exit).toBe(78);
    expect(p.stderr).toContain('PORT');
    expect(p.stderr).toContain('BYO_ADMIN_TOKEN');
    expect(p.stderr).not.toContain('eighty');
    expect(p.stderr).not.toContain('short-secret-42');
  }, 120_000);

  it('PostgreSQL without BYO_MASTER_KEYS: refuses to start and says why', async () => {
    const p = run({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', BYO_DATA_DIR: tempDir() });
    expect(await p.exit).toBe(78);
    expect(p.stderr).toMatch(/BYO_MASTER_KEYS is required with DATABASE_URL/);
    expect(p.stdout).not.toMatch(/listening/);
  }, 120_000);

  it('a malformed master keyring: exit 78, names the entry, prints no key material', async () => {
    const short = randomBytes(16).toString('base64');
    const p = run({ BYO_MASTER_KEYS: `mk1:${short}`, BYO_DATA_DIR: tempDir() });
    expect(await p.exit).toBe(78);
    expect(p.stderr).toMatch(/BYO_MASTER_KEYS entry 1 \(mk1\)/);
    expect(p.stderr).not.toContain(short);
  }, 120_000);

  it('an unknown command: exit 64 with usage', async () => {
    const p = run({ BYO_DATA_DIR: tempDir() }, ['frobnicate']);
    expect(await p.exit).toBe(64);
    expect(p.stderr).toMatch(/Usage: byo-server/);
  }, 120_000);
});

describe('embedded dev mode, first start', () => {
  const secret = canaryKey('proc');
  let dataDir: string;
  let url: string;
  let p: ServerProcess;
  let dev: { projectId: string; publishableKey: string; secretKey: string; adminToken?: string };

  it('creates 0600 key files, prints the real URL and the dev keys once', async () => {
    dataDir = join(tempDir(), 'data');
    p = run({ BYO_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', BYO_OPENAI_BASE_URL: `${mock.url}/v1`, LOG_LEVEL: 'info' });
    url = await listening(p);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);

    expect(mode(dataDir)).toBe(0o700);
    for (const f of ['master.key', 'dev-keys.json', 'admin.token']) expect(mode(join(dataDir, f)), f).toBe(0o600);
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8')).toMatch(/^dev1:[A-Za-z0-9+/]{43}=\n$/);
    dev = JSON.parse(readFileSync(join(dataDir, 'dev-keys.json'), 'utf8'));
    expect(dev.publishableKey).toMatch(/^byo_pk_test_/);
    expect(dev.secretKey).toMatch(/^byo_sk_test_/);

    // Printed once, on stderr, with a working curl line; the logs (stdout) hold no key.
    await waitFor(() => p.stderr.includes('Try: curl'), 10_000);
    expect(p.stderr).toContain(dev.publishableKey);
    expect(p.stderr).toContain(dev.secretKey);
    expect(p.stderr).toContain(`${url}/v1/keys/connect`);
    expect(p.stdout).toMatch(/development master key file/);
    expect(p.stdout).not.toContain(dev.secretKey.slice(12));
    expect(p.stdout).not.toContain(dev.publishableKey.slice(12));
    expect(p.stdout).not.toContain(readFileSync(join(dataDir, 'master.key'), 'utf8').trim().slice(5));
  }, 180_000);

  it('the printed keys work: connect with the pk, list with the sk, the admin token from admin.token', async () => {
    const post = (path: string, key: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const c = await post('/v1/keys/connect', dev.publishableKey, { provider: 'openai', refId: 'customer_123', providerKey: secret });
    expect(c.status, await c.clone().text()).toBe(200);
    const l = await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${dev.secretKey}` } });
    const listed = (await l.json()) as { data: { refId: string }[] };
    expect(listed.data.map((k) => k.refId)).toEqual(['customer_123']);
    const admin = await fetch(`${url}/v1/admin/projects`, { headers: { authorization: `Bearer ${dev.adminToken ?? ''}` } });
    expect(admin.status).toBe(200);
  }, 60_000);

  it('SIGTERM while a slow request is in flight: the request completes, the process exits 0', async () => {
    mock.validKeys.add(secret);
    mock.delayMs = 1500;
    try {
      const started = Date.now();
      const slow = fetch(`${url}/v1/keys/validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dev.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'openai', refId: 'customer_123' }),
      });
      await waitFor(() => mock.requests.some((r) => r.key === secret), 10_000, 10);
      p.child.kill('SIGTERM');
      const res = await slow;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { valid: boolean }).valid).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(await p.exit).toBe(0);
      expect(p.stdout).toMatch(/shutting down/);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      mock.delayMs = 0;
    }
  }, 60_000);

  it('the next start keeps the data and the keys, and prints no key', async () => {
    const again = run({ BYO_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    const url2 = await listening(again);
    await waitFor(() => /Development keys:/.test(again.stderr), 10_000);
    expect(again.stderr).not.toContain(dev.secretKey);
    expect(again.stderr).not.toContain(dev.publishableKey);
    expect(again.stdout).not.toMatch(/generated a development master key/);
    const l = await fetch(`${url2}/v1/keys/openai/customer_123`, { headers: { authorization: `Bearer ${dev.secretKey}` } });
    expect(((await l.json()) as { status: string }).status).toBe('active');
    again.child.kill('SIGINT');
    expect(await again.exit).toBe(0);
  }, 180_000);

  it('no process output holds the provider key', () => {
    expect(outputs.length).toBeGreaterThan(0);
    expect(findLeaks(outputs.join('\n'), [secret])).toEqual([]);
  });
});
