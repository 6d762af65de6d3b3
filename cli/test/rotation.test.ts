import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../../server/test/helpers/server.js';
import { masterKey, persistentStorage, seedProviderKeys } from '../../server/test/secrets/helpers.js';
import { CliSandbox, collect } from './helpers.js';

/**
 * ENC-5 end to end: N stored keys under master key "old"; the server restarts with
 * "new,old"; `byo secrets rotate-master-key` runs while proxied and validate traffic runs
 * without a single failure; the rotation is SIGKILLed halfway and re-run to completion;
 * then "old" leaves the keyring and every key still decrypts.
 *
 * N is 10,000 (BYO_ROTATION_KEYS overrides it, e.g. for a quicker local run).
 */
const N = Number(process.env.BYO_ROTATION_KEYS ?? 10_000);
const EXTRA = 3; // keys connected through the API, on top of the bulk-inserted ones
const storage = persistentStorage();
const adminToken = `admin_${randomBytes(24).toString('hex')}`;
const OLD = masterKey('old');
const NEW = masterKey('new');
const serverEnv = (keys: string) => ({
  ...storage.env,
  BYO_ADMIN_TOKEN: adminToken,
  BYO_MASTER_KEYS: keys,
  BYO_WEBHOOKS: 'false',
  LOG_LEVEL: 'warn',
});

let server: TestServer;
let project: TestProject;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer(serverEnv(OLD));
  project = await server.createProject();
  const t0 = Date.now();
  await seedProviderKeys(server.app.services, { projectId: project.id, mode: 'test', count: N });
  for (let i = 0; i < EXTRA; i++) {
    const r = await server.request('POST', '/v1/keys/connect', {
      key: project.skTest,
      body: { provider: 'openai', refId: `api_${i}`, providerKey: 'sk-byo-test-valid' },
    });
    expect(r.status, r.text).toBe(200);
  }
  console.log(`stored ${N + EXTRA} keys under "old" in ${Date.now() - t0} ms (${usingPostgres ? 'PostgreSQL' : 'PGlite'})`);
  await server.close();
  server = await startTestServer(serverEnv(`${NEW},${OLD}`));
  cli = new CliSandbox({ BYO_URL: server.url, BYO_ADMIN_TOKEN: adminToken });
}, 300_000);

afterAll(async () => {
  await server?.close();
  cli?.cleanup();
  storage.cleanup();
});

/** Validate and proxy calls on random keys until stopped; every answer must be a 200. */
function startTraffic(workers: number) {
  let stop = false;
  const stats = { validate: 0, proxy: 0, failures: [] as string[] };
  const pick = () => (Math.random() < 0.1 ? `api_${Math.floor(Math.random() * EXTRA)}` : `bulk_${Math.floor(Math.random() * N)}`);
  const loop = async (w: number) => {
    while (!stop) {
      const refId = pick();
      try {
        if (w % 2 === 0) {
          const r = await server.request('POST', '/v1/keys/validate', { key: project.skTest, body: { provider: 'openai', refId } });
          stats.validate++;
          if (r.status !== 200 || r.body?.valid !== true) stats.failures.push(`validate ${refId}: ${r.status} ${r.text}`);
        } else {
          const res = await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
          });
          const text = await res.text();
          stats.proxy++;
          if (res.status !== 200) stats.failures.push(`proxy ${refId}: ${res.status} ${text}`);
        }
      } catch (err) {
        stats.failures.push(`${refId}: ${(err as Error).message}`);
      }
    }
  };
  const running = Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return {
    stats,
    async stop() {
      stop = true;
      await running;
      return stats;
    },
  };
}

async function status() {
  const r = await server.request('GET', '/v1/admin/secrets/status', { key: adminToken });
  expect(r.status, r.text).toBe(200);
  return r.body as { activeKeyId: string; pending: number; keys: { id: string; total: number; inKeyring: boolean }[]; retirable: string[] };
}
const onKey = (s: Awaited<ReturnType<typeof status>>, id: string) => s.keys.find((k) => k.id === id)?.total ?? 0;

describe(`master-key rotation of ${N} stored keys`, () => {
  it('rotates online under traffic, survives a SIGKILL halfway, and every key decrypts without the old key', async () => {
    const before = await status();
    expect(before).toMatchObject({ activeKeyId: 'new', pending: N + EXTRA });
    expect(onKey(before, 'old')).toBe(N + EXTRA);

    const traffic = startTraffic(4);
    const t0 = Date.now();

    // First run, in small batches so it is surely killed in the middle.
    const first = cli.spawn(['secrets', 'rotate-master-key', '--batch-size', '100']);
    const firstDone = collect(first, { timeoutMs: 600_000 });
    let mid = before;
    while (mid.pending > (N + EXTRA) * 0.6) {
      await new Promise((r) => setTimeout(r, 25));
      mid = await status();
    }
    first.kill('SIGKILL');
    const killed = await firstDone;
    expect(killed.signal).toBe('SIGKILL');
    // Progress went to stderr (one line per 5% when stderr is not a terminal), nothing to stdout.
    expect(killed.stderr).toContain(`Re-wrapping ${N + EXTRA} secret(s) from old (${N + EXTRA}) to the active key "new".`);
    expect(killed.stderr).toMatch(new RegExp(`re-wrapped \\d+/${N + EXTRA} \\(\\d+%\\), \\d+ remaining`));
    expect(killed.stdout).toBe('');
    const afterKill = await status();
    expect(afterKill.pending).toBeGreaterThan(0);
    expect(afterKill.pending).toBeLessThan(N + EXTRA);
    expect(onKey(afterKill, 'old') + onKey(afterKill, 'new')).toBe(N + EXTRA);

    // The re-run finishes the job.
    const second = await cli.run(['secrets', 'rotate-master-key', '--json'], { timeoutMs: 600_000 });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.json.status).toBe('success');
    expect(second.json.result).toMatchObject({ activeKeyId: 'new', remaining: 0, failed: [] });
    // The batch in flight when the CLI was killed may still have committed on the server.
    expect(second.json.result.rewrapped).toBeGreaterThanOrEqual(afterKill.pending - 100);
    expect(second.json.result.rewrapped).toBeLessThanOrEqual(afterKill.pending);
    const rotationMs = Date.now() - t0;

    const stats = await traffic.stop();
    console.log(
      `rotation of ${N + EXTRA} keys (killed at ${afterKill.pending} pending, then resumed) took ${rotationMs} ms with ${stats.validate} validate + ${stats.proxy} proxy calls during it, ${stats.failures.length} failed`,
    );
    expect(stats.failures).toEqual([]);
    expect(stats.validate).toBeGreaterThan(10);
    expect(stats.proxy).toBeGreaterThan(10);

    const done = await status();
    expect(done).toMatchObject({ pending: 0, retirable: ['old'] });
    expect(onKey(done, 'new')).toBe(N + EXTRA);

    // Human output of the status command, for the operator.
    const human = await cli.run(['secrets', 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/old\s+no\s+yes\s+0\s+0\s+0/);
    expect(human.stderr).toContain('Safe to remove from BYO_MASTER_KEYS: old.');

    // The old key leaves the keyring.
    await server.close();
    server = await startTestServer(serverEnv(NEW));
    cli = new CliSandbox({ BYO_URL: server.url, BYO_ADMIN_TOKEN: adminToken });
    const final = await cli.run(['secrets', 'status', '--json']);
    expect(final.code).toBe(0);
    expect(final.json.result).toMatchObject({ activeKeyId: 'new', keyring: ['new'], pending: 0 });
    expect(final.json.result.keys).toEqual([
      { id: 'new', active: true, inKeyring: true, providerKeys: N + EXTRA, webhookSecrets: 0, idempotencyResponses: 0, total: N + EXTRA },
    ]);

    const sample = [
      ...Array.from({ length: EXTRA }, (_, i) => `api_${i}`),
      'bulk_0',
      `bulk_${N - 1}`,
      ...Array.from({ length: 40 }, () => `bulk_${Math.floor(Math.random() * N)}`),
    ];
    for (const refId of sample) {
      const v = await server.request('POST', '/v1/keys/validate', { key: project.skTest, body: { provider: 'openai', refId } });
      expect(v.body, `${refId}: ${v.text}`).toMatchObject({ valid: true });
    }
  }, 900_000);

  it('a re-run after completion is a no-op', async () => {
    const r = await cli.run(['secrets', 'rotate-master-key']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Nothing to do: every secret is on the active key "new".');
    expect(r.stderr).toContain('Re-wrapped 0 secret(s); 0 left on older keys.');
  });
});
