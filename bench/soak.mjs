#!/usr/bin/env node
// Soak (issue 8, item 7): a bounded run at a fixed request rate against one BYO server, a mix
// of proxied calls (test-mode sandbox, JSON and SSE), connects and lists. Records every error,
// BYO's RSS and heap (from /metrics), and its event-loop delay, and checks for an upward memory
// trend. Prints a summary table and exits 1 on any error or a growing heap. Loopback only.
//
//   node bench/soak.mjs                                # 60 s at 500 req/s on PostgreSQL
//   SOAK_SECONDS=600 SOAK_RATE=300 node bench/soak.mjs
//   node bench/soak.mjs pglite                         # embedded PGlite on disk
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/soak.mjs
//
// BYO runs from source through tsx as a child process (LOG_LEVEL=warn, NODE_ENV=production);
// PostgreSQL in a fresh schema, dropped afterwards. The load is open-loop: a request leaves
// every 1/RATE s whatever happened to the previous ones, so a slow server shows up as latency
// and errors, not as a politely lower rate.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(join(root, 'server/package.json'));
const pg = require('pg');
const { Pool, WebSocket } = require('undici');

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const RATE = Number(process.env.SOAK_RATE ?? 500);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP ?? 10);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 128);
const TIMEOUT_MS = Number(process.env.SOAK_TIMEOUT_MS ?? 10_000);
/** Heap growth over the measured part, per minute, above which the run fails. */
const MAX_HEAP_SLOPE_MB_PER_MIN = Number(process.env.SOAK_MAX_HEAP_SLOPE ?? 2);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const backend = process.argv[2] ?? 'postgres';
const MIX = { proxy: 0.5, proxyStream: 0.1, connect: 0.2, list: 0.2 };

async function startByo() {
  const port = await freePort();
  const admin = `admin_${randomBytes(24).toString('hex')}`;
  const schema = `soak_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'byo-soak-'));
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
    // One secret key makes every connect of a throughput run: no per-key limit (overridable below).
    BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY: '0',
    ...(backend === 'postgres' ? { DATABASE_URL, BYO_DATABASE_SCHEMA: schema } : {}),
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BYO_') && k !== 'BYO_DATABASE_SCHEMA')),
  };
  // The inspector (on an ephemeral loopback port) lets the soak force a full garbage collection
  // before each heap reading, so a leak shows as a rising floor rather than GC saw-teeth.
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '--import', 'tsx', join(root, 'server/src/main.ts'), 'start'], {
    cwd: join(root, 'server'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise((r) => child.on('exit', r));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`BYO exited ${child.exitCode}: ${output}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 3000) throw new Error('BYO did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
  if (!inspectorUrl) throw new Error(`no inspector URL in the server output: ${output}`);
  return {
    base,
    admin,
    child,
    inspectorUrl,
    output: () => output,
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

/** The values of the Prometheus metrics named in `names` (first sample of each). */
async function scrape(base, names) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = {};
  for (const name of names) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    out[name] = m ? Number(m[1]) : Number.NaN;
  }
  return out;
}

/** A tiny Chrome DevTools Protocol client over the server's inspector WebSocket. */
async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let seq = 0;
  const pending = new Map();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data));
    const p = pending.get(msg.id);
    if (p) {
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    }
  };
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    /** Heap in use right after a full collection, in bytes. */
    async heapAfterGc() {
      await call('HeapProfiler.collectGarbage');
      const r = await call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
      return Number(r.result.value);
    },
    close: () => ws.close(),
  };
}

const quantile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : Number.NaN);

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? num / den : 0;
}

const byo = await startByo();
const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
let exitCode = 0;
try {
  const created = await (
    await fetch(`${byo.base}/v1/admin/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${byo.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'soak' }),
    })
  ).json();
  const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'test').key;
  const pool = new Pool(byo.base, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 });
  const auth = { authorization: `Bearer ${sk}`, 'content-type': 'application/json' };
  // 200 customers with the sandbox key: proxied calls spread over them, as real traffic would.
  const REFS = 200;
  for (let i = 0; i < REFS; i++) {
    const r = await pool.request({
      method: 'POST',
      path: '/v1/keys/connect',
      headers: auth,
      body: JSON.stringify({ provider: 'openai', refId: `cust_${i}`, providerKey: 'sk-byo-test-valid' }),
    });
    await r.body.text();
    if (r.statusCode !== 200) throw new Error(`setup connect failed: ${r.statusCode}`);
  }

  const kinds = Object.keys(MIX);
  const stats = Object.fromEntries(kinds.map((k) => [k, { sent: 0, ok: 0, errors: 0, lat: [], firstError: '' }]));
  let connectSeq = 0;
  const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
  const chatStream = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello' }] });

  function pick() {
    let r = Math.random();
    for (const k of kinds) {
      r -= MIX[k];
      if (r <= 0) return k;
    }
    return kinds[kinds.length - 1];
  }

  async function one(kind, measured) {
    const ref = `cust_${Math.floor(Math.random() * REFS)}`;
    let opts;
    if (kind === 'proxy' || kind === 'proxyStream')
      opts = {
        method: 'POST',
        path: '/v1/proxy/openai/chat/completions',
        headers: { ...auth, 'x-byo-ref-id': ref },
        body: kind === 'proxy' ? chat : chatStream,
      };
    else if (kind === 'connect')
      opts = {
        method: 'POST',
        path: '/v1/keys/connect',
        headers: auth,
        // Half new customers, half replacing an existing key (the key cache is invalidated).
        body: JSON.stringify({
          provider: 'anthropic',
          refId: Math.random() < 0.5 ? `new_${connectSeq++}` : `cust_${Math.floor(Math.random() * REFS)}`,
          providerKey: `sk-ant-soak-${randomBytes(12).toString('hex')}`,
        }),
      };
    else opts = { method: 'GET', path: `/v1/keys?limit=20&refId=${ref}`, headers: auth };
    const s = stats[kind];
    if (measured) s.sent++;
    const t0 = process.hrtime.bigint();
    try {
      const res = await pool.request({ ...opts, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
      const text = await res.body.text();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!measured) return;
      if (res.statusCode === 200 && (kind !== 'proxyStream' || text.includes('[DONE]'))) {
        s.ok++;
        s.lat.push(ms);
      } else {
        s.errors++;
        s.firstError ||= `${res.statusCode} ${text.slice(0, 200)}`;
      }
    } catch (err) {
      if (!measured) return;
      s.errors++;
      s.firstError ||= String(err?.code ?? err?.message ?? err);
    }
  }

  // Samples of BYO's memory and event loop, every second.
  const samples = [];
  const started = performance.now();
  const metricNames = [
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_eventloop_lag_max_seconds',
    'nodejs_eventloop_lag_mean_seconds',
  ];
  const sampler = setInterval(async () => {
    try {
      const m = await scrape(byo.base, metricNames);
      samples.push({ t: (performance.now() - started) / 1000, ...m });
    } catch {}
  }, 1000);
  const cdp = await inspector(byo.inspectorUrl);
  const gcHeap = [];
  const gcSampler = setInterval(async () => {
    try {
      const t = (performance.now() - started) / 1000;
      gcHeap.push([t, await cdp.heapAfterGc()]);
    } catch {}
  }, 10_000);

  let cpuAtMeasureStart = Number.NaN;
  setTimeout(() => {
    cpuAtMeasureStart = cpuSeconds(byo.child.pid);
  }, WARMUP_SECONDS * 1000).unref();
  // Open-loop load: the i-th request leaves at i / RATE seconds.
  const total = Math.round((WARMUP_SECONDS + SECONDS) * RATE);
  const inflight = new Set();
  let maxInflight = 0;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const measured = i >= WARMUP_SECONDS * RATE;
    const p = one(pick(), measured).finally(() => inflight.delete(p));
    inflight.add(p);
    maxInflight = Math.max(maxInflight, inflight.size);
  }
  const sendingSeconds = (performance.now() - started) / 1000;
  await Promise.all(inflight);
  const byoCpu = cpuSeconds(byo.child.pid) - cpuAtMeasureStart;
  clearInterval(sampler);
  clearInterval(gcSampler);
  gcHeap.push([(performance.now() - started) / 1000, await cdp.heapAfterGc()]);
  cdp.close();
  await pool.close();

  // Report.
  const measuredSamples = samples.filter((s) => s.t >= WARMUP_SECONDS);
  const mb = (b) => b / 1024 / 1024;
  // Heap in use after a forced full collection, every 10 s of the measured part: what the
  // process really keeps. A leak makes it rise; caches filling up level off.
  const retained = gcHeap.filter(([t]) => t >= WARMUP_SECONDS);
  const heapSlope = slope(retained.map(([t, b]) => [t / 60, mb(b)]));
  const rssSlope = slope(measuredSamples.map((s) => [s.t / 60, mb(s.process_resident_memory_bytes)]));
  const first = measuredSamples[0];
  const last = measuredSamples[measuredSamples.length - 1];
  const lagP99 = measuredSamples
    .map((s) => s.nodejs_eventloop_lag_p99_seconds * 1000)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const lagMax = Math.max(...measuredSamples.map((s) => s.nodejs_eventloop_lag_max_seconds * 1000).filter(Number.isFinite));
  const means = measuredSamples.map((s) => s.nodejs_eventloop_lag_mean_seconds * 1000).filter(Number.isFinite);
  const lagMean = means.reduce((a, v) => a + v, 0) / (means.length || 1);
  const errors = kinds.reduce((a, k) => a + stats[k].errors, 0);
  const sent = kinds.reduce((a, k) => a + stats[k].sent, 0);
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

  console.log(
    `\nsoak (${backend}): ${SECONDS} s at ${RATE} req/s after ${WARMUP_SECONDS} s warm-up; ${CONNECTIONS} connections; Node ${process.version}`,
  );
  console.log(`load average at start: ${loadAtStart} (${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} CPUs)`);
  console.log(
    `sent ${sent} measured requests in ${f(sendingSeconds - WARMUP_SECONDS)} s (${f(sent / Math.max(1, sendingSeconds - WARMUP_SECONDS), 0)} req/s achieved), max in flight ${maxInflight}`,
  );
  console.log('kind          sent      ok  errors   p50 ms   p99 ms   max ms');
  for (const k of kinds) {
    const s = stats[k];
    const sorted = s.lat.sort((a, b) => a - b);
    console.log(
      `${k.padEnd(12)} ${String(s.sent).padStart(5)} ${String(s.ok).padStart(7)} ${String(s.errors).padStart(7)} ${f(quantile(sorted, 0.5), 2).padStart(8)} ${f(quantile(sorted, 0.99), 2).padStart(8)} ${f(sorted[sorted.length - 1], 1).padStart(8)}${s.firstError ? `   first error: ${s.firstError}` : ''}`,
    );
  }
  console.log(
    `BYO RSS ${f(mb(first?.process_resident_memory_bytes ?? Number.NaN), 0)} -> ${f(mb(last?.process_resident_memory_bytes ?? Number.NaN), 0)} MB (trend ${f(rssSlope, 2)} MB/min); heap after full GC every 10 s: ${retained.map(([, b]) => f(mb(b), 1)).join(' ')} MB (trend ${f(heapSlope, 2)} MB/min)`,
  );
  console.log(
    `BYO CPU: ${f(byoCpu, 1)} s over the measured ${SECONDS} s (${f((100 * byoCpu) / SECONDS, 0)}% of one core), ${f((1000 * byoCpu) / Math.max(1, sent), 2)} ms per request`,
  );
  console.log(
    `event-loop delay: mean ${f(lagMean, 1)} ms, p99 per second: median ${f(quantile(lagP99, 0.5), 1)} ms, worst ${f(lagP99[lagP99.length - 1], 1)} ms; max ${f(lagMax, 1)} ms`,
  );
  if (errors > 0) {
    console.log(`FAIL: ${errors} errors`);
    exitCode = 1;
  }
  if (heapSlope > MAX_HEAP_SLOPE_MB_PER_MIN) {
    console.log(`FAIL: the heap grows by ${f(heapSlope, 2)} MB/min (limit ${MAX_HEAP_SLOPE_MB_PER_MIN})`);
    exitCode = 1;
  }
  if (exitCode === 0) console.log('PASS: no errors, no upward heap trend');
} finally {
  await byo.stop();
}
process.exit(exitCode);
