#!/usr/bin/env node
// Quick proxy-overhead check with autocannon: a fast local mock upstream, hit directly and
// through BYO (`/v1/proxy/openai`), JSON and SSE (~20 chunks). Prints a table. Loopback only.
//
//   node bench/proxy-quick.mjs                 # 10 s per phase
//   QUICK_DURATION=5 node bench/proxy-quick.mjs
//   QUICK_PROFILE=1 node bench/proxy-quick.mjs # BYO runs with --cpu-prof; profile in $TMPDIR/byo-proxy-profiles/
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/proxy-quick.mjs
//
// BYO runs from source through tsx (no build needed): on PostgreSQL (a fresh schema) when
// DATABASE_URL is set, else on the embedded PGlite in memory, whose queries (usage writes,
// the webhook dispatcher's polling) run on BYO's own main thread and so show in its figures.
// The full comparison with the Portkey gateway is bench/proxy.mjs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { autocannonRun } from './lib/load.mjs';
import { cpuSeconds, freePort } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DURATION = Number(process.env.QUICK_DURATION ?? 10);
const PROFILE = process.env.QUICK_PROFILE === '1';
const JSON_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
const SSE_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello' }] });

const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(cmd, args, env, readyRe) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const onData = (d) => {
      out += d.toString();
      const m = readyRe.exec(out);
      if (m) {
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}:\n${out.slice(-2000)}`)));
  });
}

async function http(method, url, { token, body } = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** One connection, one request at a time, timed with hrtime (autocannon rounds to whole ms). */
async function sequential(url, headers, body, n = 2000, warm = 200) {
  const u = new URL(url);
  const client = new Client(u.origin, { keepAliveTimeout: 60_000 });
  const lat = [];
  const ttfb = [];
  for (let i = 0; i < n + warm; i++) {
    const t0 = process.hrtime.bigint();
    const res = await client.request({ method: 'POST', path: u.pathname, headers, body });
    let first = 0n;
    for await (const _ of res.body) if (!first) first = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
    if (i >= warm) {
      lat.push(Number(t1 - t0) / 1e6);
      ttfb.push(Number((first || t1) - t0) / 1e6);
    }
  }
  await client.close();
  const q = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
  return { p50: q(lat, 0.5), p99: q(lat, 0.99), ttfb50: q(ttfb, 0.5) };
}

function run(opts) {
  return autocannonRun({ ...opts, duration: DURATION });
}

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const mockPort = await freePort();
const mock = await start(process.execPath, [join(here, 'mock-upstream-fast.mjs'), String(mockPort)], {}, /"port":\d+/);
const byoPort = await freePort();
const admin = `admin_${randomBytes(24).toString('hex')}`;
const profDir = join(tmpdir(), 'byo-proxy-profiles');
if (PROFILE) mkdirSync(profDir, { recursive: true });
const byoChild = spawn(
  process.execPath,
  [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), '--import', 'tsx', join(root, 'server/src/main.ts'), 'start'],
  {
    cwd: join(root, 'server'),
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PORT: String(byoPort),
      HOST: '127.0.0.1',
      BYO_EMBEDDED_STORAGE: 'memory',
      ...(process.env.DATABASE_URL ? { BYO_DATABASE_SCHEMA: `bench_${randomBytes(4).toString('hex')}` } : {}),
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: admin,
      BYO_SEED_DEV_PROJECT: 'false',
      BYO_OPENAI_BASE_URL: `http://127.0.0.1:${mockPort}/v1`,
      LOG_LEVEL: 'warn',
    },
  },
);
children.push(byoChild);
const byo = { child: byoChild };

const base = `http://127.0.0.1:${byoPort}`;
for (let i = 0; ; i++) {
  try {
    await fetch(`${base}/healthz`);
    break;
  } catch {
    if (i > 600) throw new Error('BYO did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
const created = await http('POST', `${base}/v1/admin/projects`, { token: admin, body: { name: 'bench' } });
const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'live').key;
await http('POST', `${base}/v1/keys/connect`, {
  token: sk,
  body: { provider: 'openai', refId: 'bench', providerKey: 'sk-bench-upstream-key-0000000000' },
});

const targets = {
  direct: { url: `http://127.0.0.1:${mockPort}/v1/chat/completions`, headers: { 'content-type': 'application/json' } },
  byo: {
    url: `${base}/v1/proxy/openai/chat/completions`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'bench' },
  },
};

// Warm up both paths (JIT, keep-alive pools, key caches).
for (const t of Object.values(targets))
  await run({ url: t.url, method: 'POST', headers: t.headers, body: JSON_BODY, connections: 10, duration: 2 });

const rows = [];
for (const [kind, body] of [
  ['JSON', JSON_BODY],
  ['SSE', SSE_BODY],
]) {
  for (const [name, t] of Object.entries(targets)) {
    const one = await sequential(t.url, t.headers, body);
    const cpu0 = { byo: cpuSeconds(byo.child.pid), mock: cpuSeconds(mock.child.pid) };
    const many = await run({ url: t.url, method: 'POST', headers: t.headers, body, connections: 50 });
    const calls = many.requests.total;
    const cpuByo = name === 'byo' ? (1e6 * (cpuSeconds(byo.child.pid) - cpu0.byo)) / calls : 0;
    const cpuMock = (1e6 * (cpuSeconds(mock.child.pid) - cpu0.mock)) / calls;
    if (many.non2xx || many.errors) throw new Error(`${name} ${kind}: ${many.non2xx} non-2xx, ${many.errors} errors`);
    rows.push({
      kind,
      name,
      c1p50: one.p50,
      c1p99: one.p99,
      ttfb: one.ttfb50,
      c50rps: Math.round(many.requests.average),
      c50p50: many.latency.p50,
      c50p99: many.latency.p99,
      rss: name === 'byo' ? rssMb(byo.child.pid) : rssMb(mock.child.pid),
      cpuByo,
      cpuMock,
    });
  }
}

const pad = (s, n) => String(s).padEnd(n);
console.log(
  `\nautocannon, ${DURATION} s per phase, ${new Date().toISOString()}, node ${process.version}, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}`,
);
console.log(
  `${pad('body', 6)}${pad('target', 8)}${pad('1 conn p50 ms', 15)}${pad('p99', 8)}${pad('TTFB p50', 10)}${pad('50 conn req/s', 15)}${pad('p50 ms', 8)}${pad('p99', 6)}${pad('RSS MB', 8)}${pad('BYO CPU µs/call', 17)}mock CPU µs/call`,
);
for (const r of rows) {
  console.log(
    `${pad(r.kind, 6)}${pad(r.name, 8)}${pad(r.c1p50.toFixed(3), 15)}${pad(r.c1p99.toFixed(3), 8)}${pad(r.ttfb.toFixed(3), 10)}${pad(r.c50rps, 15)}${pad(r.c50p50, 8)}${pad(r.c50p99, 6)}${pad(r.rss, 8)}${pad(r.name === 'byo' ? r.cpuByo.toFixed(0) : '-', 17)}${r.cpuMock.toFixed(0)}`,
  );
}
for (const kind of ['JSON', 'SSE']) {
  const d = rows.find((r) => r.kind === kind && r.name === 'direct');
  const b = rows.find((r) => r.kind === kind && r.name === 'byo');
  console.log(
    `${kind}: BYO throughput ${((100 * b.c50rps) / d.c50rps).toFixed(0)}% of direct; added latency (1 connection) p50 ${(b.c1p50 - d.c1p50).toFixed(3)} ms, p99 ${(b.c1p99 - d.c1p99).toFixed(3)} ms; added TTFB p50 ${(b.ttfb - d.ttfb).toFixed(3)} ms`,
  );
}
const metrics = await (await fetch(`${base}/metrics`)).text();
const sum = /byo_proxy_overhead_seconds_sum\{provider="openai"\} ([\d.e-]+)/.exec(metrics)?.[1];
const count = /byo_proxy_overhead_seconds_count\{provider="openai"\} (\d+)/.exec(metrics)?.[1];
if (sum && count)
  console.log(
    `BYO's own measured overhead (byo_proxy_overhead_seconds): mean ${((1000 * Number(sum)) / Number(count)).toFixed(3)} ms over ${count} calls`,
  );

byo.child.kill('SIGTERM');
mock.child.kill('SIGTERM');
await new Promise((r) => byo.child.once('exit', r));
if (PROFILE) console.log(`CPU profile written to ${profDir}`);
process.exit(0);
