// Master-key rotation benchmark (ENC-5): stores N provider keys under master key "old", restarts
// with "new,old", then re-wraps them through POST /v1/admin/secrets/rotate-batch, first alone
// and then (on a second copy of the data) while proxy calls run; prints rows/s and the proxy's
// latency before and during the rotation. Everything runs on 127.0.0.1 (sandbox provider).
//
//   server/node_modules/.bin/tsx bench/master-key-rotation.ts                      # embedded PGlite
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test server/node_modules/.bin/tsx bench/master-key-rotation.ts
//   BENCH_KEYS=10000 BENCH_BATCH=500 BENCH_WORKERS=8 ...
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from '../server/node_modules/pg/lib/index.js';
import { randomId } from '../server/src/auth/api-key-format.js';
import { loadConfig } from '../server/src/config.js';
import { aadFor, PROVIDER_KEY_KIND } from '../server/src/domain/provider-keys.js';
import { createLogger } from '../server/src/observability/logger.js';
import { type RunningServer, startServer } from '../server/src/server.js';

const N = Number(process.env.BENCH_KEYS ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 8);
const DATABASE_URL = process.env.DATABASE_URL;
const adminToken = `admin_${randomBytes(24).toString('hex')}`;
const OLD = `old:${randomBytes(32).toString('base64')}`;
const NEW = `new:${randomBytes(32).toString('base64')}`;
const quiet = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function storageEnv(): { env: Record<string, string>; cleanup: () => void | Promise<void> } {
  if (DATABASE_URL) {
    const schema = `bench_mk_${randomBytes(4).toString('hex')}`;
    const cleanup = async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    };
    return { env: { DATABASE_URL, BYO_DATABASE_SCHEMA: schema }, cleanup };
  }
  const dir = mkdtempSync(join(tmpdir(), 'byo-bench-mk-'));
  return { env: { BYO_EMBEDDED_STORAGE: 'disk', BYO_DATA_DIR: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const start = (env: Record<string, string>, keys: string) =>
  startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      BYO_ADMIN_TOKEN: adminToken,
      BYO_MASTER_KEYS: keys,
      BYO_SEED_DEV_PROJECT: 'false',
      BYO_WEBHOOKS: 'false',
      LOG_LEVEL: 'warn',
      ...env,
    }),
    quiet,
  );

async function seed(env: Record<string, string>): Promise<{ sk: string }> {
  const s = await start(env, OLD);
  const res = await fetch(`${s.url}/v1/admin/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench' }),
  });
  const body = (await res.json()) as { project: { id: string }; keys: { kind: string; mode: string; key: string }[] };
  const projectId = body.project.id;
  const { vault, db } = s.app.services;
  const now = new Date();
  for (let i = 0; i < N; i += 500) {
    const rows = [];
    for (let j = i; j < Math.min(N, i + 500); j++) {
      const r = { id: randomId('key'), project_id: projectId, mode: 'test' as const, provider: 'openai' as const, ref_id: `bulk_${j}` };
      const sealed = vault.seal(PROVIDER_KEY_KIND, aadFor(r), 'sk-byo-test-valid');
      rows.push({
        ...r,
        status: 'active' as const,
        key_hint: 'sk-...alid',
        base_url: null,
        ciphertext: sealed.ciphertext,
        wrapped_key: sealed.wrappedKey,
        master_key_id: sealed.masterKeyId,
        created_at: now,
        updated_at: now,
      });
    }
    await db.insertInto('provider_keys').values(rows).execute();
  }
  await s.close();
  return { sk: body.keys.find((k) => k.kind === 'sk' && k.mode === 'test')?.key as string };
}

async function rotate(s: RunningServer): Promise<{ ms: number; batchMs: number[] }> {
  const t0 = performance.now();
  const batchMs: number[] = [];
  let after: string | undefined;
  do {
    const t = performance.now();
    const res = await fetch(`${s.url}/v1/admin/secrets/rotate-batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: BATCH, ...(after ? { after } : {}) }),
    });
    const r = (await res.json()) as { next: string | null; remaining: number };
    if (res.status !== 200) throw new Error(`rotate-batch: ${res.status} ${JSON.stringify(r)}`);
    batchMs.push(performance.now() - t);
    after = r.next ?? undefined;
  } while (after);
  return { ms: performance.now() - t0, batchMs };
}

function traffic(s: RunningServer, sk: string) {
  let stop = false;
  const lat: number[] = [];
  let failures = 0;
  const loop = async () => {
    while (!stop) {
      const t = performance.now();
      const res = await fetch(`${s.url}/v1/proxy/openai/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${sk}`,
          'x-byo-ref-id': `bulk_${Math.floor(Math.random() * N)}`,
          'content-type': 'application/json',
        },
        body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
      });
      await res.arrayBuffer();
      lat.push(performance.now() - t);
      if (res.status !== 200) failures++;
    }
  };
  const running = Promise.all(Array.from({ length: WORKERS }, loop));
  return {
    async stop() {
      stop = true;
      await running;
      const sorted = [...lat].sort((a, b) => a - b);
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
      return { calls: lat.length, failures, p50: pct(50), p99: pct(99) };
    },
  };
}

const f = (n: number) => n.toFixed(1);
console.log(
  `master-key rotation: ${N} keys, batches of ${BATCH}, ${DATABASE_URL ? 'PostgreSQL' : 'PGlite (disk)'}, ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join('/')}`,
);

// 1. Rotation alone.
{
  const st = storageEnv();
  await seed(st.env);
  const s = await start(st.env, `${NEW},${OLD}`);
  const r = await rotate(s);
  const sorted = [...r.batchMs].sort((a, b) => a - b);
  console.log(
    `alone:        ${f(r.ms)} ms, ${Math.round((N / r.ms) * 1000)} rows/s, batch p50 ${f(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${f(sorted[sorted.length - 1] ?? 0)} ms`,
  );
  await s.close();
  await st.cleanup();
}

// 2. Proxy traffic before and during the rotation.
{
  const st = storageEnv();
  const { sk } = await seed(st.env);
  const s = await start(st.env, `${NEW},${OLD}`);
  const base = traffic(s, sk);
  await new Promise((r) => setTimeout(r, 5000));
  const b = await base.stop();
  const during = traffic(s, sk);
  const r = await rotate(s);
  const d = await during.stop();
  console.log(`under load:   ${f(r.ms)} ms, ${Math.round((N / r.ms) * 1000)} rows/s with ${WORKERS} concurrent proxy callers`);
  console.log(`proxy before: ${b.calls} calls, p50 ${f(b.p50)} ms, p99 ${f(b.p99)} ms, ${b.failures} failed`);
  console.log(`proxy during: ${d.calls} calls, p50 ${f(d.p50)} ms, p99 ${f(d.p99)} ms, ${d.failures} failed`);
  await s.close();
  await st.cleanup();
}
process.exit(0);
