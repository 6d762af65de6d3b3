#!/usr/bin/env node
// `connect` throughput and latency: 5,000 `POST /v1/keys/connect` with a secret key, each for
// a new refId, 32 at a time, on PostgreSQL and on the embedded PGlite. Prints a table.
// Loopback only. BYO runs from source through tsx as a child process with LOG_LEVEL=warn.
//
//   node bench/connect.mjs                          # both backends
//   node bench/connect.mjs postgres                 # one backend (postgres | pglite)
//   CONNECT_N=20000 CONNECT_C=64 node bench/connect.mjs
//   CONNECT_PROFILE=1 node bench/connect.mjs postgres   # --cpu-prof into bench/.profiles/
//   BYO_WEBHOOKS=false node bench/connect.mjs           # BYO_* variables pass through to the server
//   CONNECT_NICE=1 node bench/connect.mjs               # shared machine: BYO and its PostgreSQL backends at nice -10
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/connect.mjs
//
// PostgreSQL runs in a fresh schema of DATABASE_URL (default the local test database), dropped
// afterwards; PGlite on disk in a temporary BYO_DATA_DIR, as `pnpm start` runs it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// pg and undici are the server's dependencies.
const require = createRequire(join(root, 'server/package.json'));
const pg = require('pg');
const { Pool } = require('undici');
const N = Number(process.env.CONNECT_N ?? 5000);
const C = Number(process.env.CONNECT_C ?? 32);
const WARMUP = Number(process.env.CONNECT_WARMUP ?? 1000);
const PROFILE = process.env.CONNECT_PROFILE === '1';
// On a shared machine: run BYO and its own PostgreSQL backends at nice -10, to approximate an idle machine.
const NICE = process.env.CONNECT_NICE === '1';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const only = process.argv[2];
const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const backends = only ? [only] : ['postgres', 'pglite'];

/** CPU seconds of every PostgreSQL process (postmaster, backends, WAL writer); 0 if none is visible. */
function postgresCpuSeconds() {
  const { readdirSync } = require('node:fs');
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(pid);
    } catch {}
  }
  return total;
}

async function startByo(backend) {
  const port = await freePort();
  const admin = `admin_${randomBytes(24).toString('hex')}`;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const appName = `byo-bench-${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'byo-bench-'));
  const profDir = join(here, '.profiles');
  if (PROFILE) mkdirSync(profDir, { recursive: true });
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    BYO_ADMIN_TOKEN: admin,
    BYO_SEED_DEV_PROJECT: 'false',
    BYO_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // node-postgres names its connections after PGAPPNAME: how CONNECT_NICE finds this run's backends.
    PGAPPNAME: appName,
    ...(backend === 'postgres' ? { DATABASE_URL, BYO_DATABASE_SCHEMA: schema } : {}),
    // One secret key makes every connect of a throughput run: no per-key limit (overridable below).
    BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY: '0',
    // Any other BYO_* setting passes through, e.g. BYO_WEBHOOKS=false to leave the dispatcher out.
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BYO_') && k !== 'BYO_DATABASE_SCHEMA')),
  };
  const nodeArgs = [
    ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    '--import',
    'tsx',
    join(root, 'server/src/main.ts'),
    'start',
  ];
  const child = NICE
    ? spawn('nice', ['-n', '-10', process.execPath, ...nodeArgs], { cwd: join(root, 'server'), env, stdio: ['ignore', 'inherit', 'pipe'] })
    : spawn(process.execPath, nodeArgs, { cwd: join(root, 'server'), env, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((r) => child.on('exit', r));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`BYO exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 3000) throw new Error('BYO did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    admin,
    child,
    /** CONNECT_NICE: the same priority for the PostgreSQL backends serving this BYO (once its pool is open). */
    async reniceBackends() {
      if (!NICE || backend !== 'postgres') return 0;
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      const { rows } = await c.query('select pid from pg_stat_activity where application_name = $1', [appName]);
      await c.end();
      for (const { pid } of rows) spawn('renice', ['-n', '-10', '-p', String(pid)], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 200));
      return rows.length;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
      if (backend === 'postgres') {
        const c = new pg.Client({ connectionString: DATABASE_URL });
        await c.connect();
        await c.query(`drop schema if exists "${schema}" cascade`);
        await c.end();
      }
    },
  };
}

/** `n` connects with `c` in flight, each for its own refId; latencies from hrtime. */
async function connects(pool, sk, n, c, prefix) {
  const headers = { authorization: `Bearer ${sk}`, 'content-type': 'application/json' };
  const lat = new Float64Array(n);
  let next = 0;
  let failed = 0;
  let firstError = '';
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const body = JSON.stringify({
        provider: 'openai',
        refId: `${prefix}_${i}`,
        providerKey: `sk-bench-${randomBytes(16).toString('hex')}`,
      });
      const t0 = process.hrtime.bigint();
      const res = await pool.request({ method: 'POST', path: '/v1/keys/connect', headers, body });
      const text = await res.body.text();
      lat[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.statusCode !== 200) {
        failed++;
        firstError ||= `${res.statusCode} ${text}`;
      }
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: c }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const sorted = [...lat].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(n - 1, Math.floor(p * n))];
  return { seconds, rps: n / seconds, p50: q(0.5), p99: q(0.99), max: sorted[n - 1], failed, firstError };
}

const rows = [];
for (const backend of backends) {
  const byo = await startByo(backend);
  try {
    const res = await fetch(`${byo.base}/v1/admin/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${byo.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
    const created = await res.json();
    const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'live').key;
    const pool = new Pool(byo.base, { connections: C, pipelining: 1, keepAliveTimeout: 60_000 });
    await connects(pool, sk, WARMUP, C, 'warm');
    await byo.reniceBackends();
    const cpu0 = cpuSeconds(byo.child.pid);
    const pg0 = postgresCpuSeconds();
    const r = await connects(pool, sk, N, C, 'run');
    const cpuMs = (1000 * (cpuSeconds(byo.child.pid) - cpu0)) / N;
    const pgMs = backend === 'postgres' ? (1000 * (postgresCpuSeconds() - pg0)) / N : 0;
    await pool.close();
    if (r.failed) throw new Error(`${backend}: ${r.failed} of ${N} connects failed, e.g. ${r.firstError}`);
    rows.push({ backend, ...r, cpuMs, pgMs });
  } finally {
    await byo.stop();
  }
}

const f = (x, d = 1) => x.toFixed(d);
console.log(`\nconnect: ${N} connects (sk, new refId each), concurrency ${C}, after ${WARMUP} warm-up connects; Node ${process.version}`);
console.log(
  `load average at start: ${loadAtStart} (${require('node:os').availableParallelism()} CPUs)${NICE ? '; BYO and its PostgreSQL backends at nice -10' : ''}`,
);
console.log('backend    connects/s   p50 ms   p99 ms   max ms   BYO CPU ms/connect   PostgreSQL CPU ms/connect');
for (const r of rows)
  console.log(
    `${r.backend.padEnd(10)} ${f(r.rps, 0).padStart(10)} ${f(r.p50, 2).padStart(8)} ${f(r.p99, 2).padStart(8)} ${f(r.max, 1).padStart(8)}   ${f(r.cpuMs, 3).padStart(18)}   ${r.pgMs ? f(r.pgMs, 3).padStart(25) : '                        -'}`,
  );
