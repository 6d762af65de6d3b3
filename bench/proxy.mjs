#!/usr/bin/env node
// Proxy benchmark: direct to a fast local mock upstream (the limit), through BYO, and through the
// Portkey AI gateway (the peer), JSON and SSE. Prints a table. Everything runs on 127.0.0.1.
//
//   pnpm build && node bench/proxy.mjs            # full run (~3 min)
//   BENCH_DURATION=5 node bench/proxy.mjs         # shorter phases
//   BENCH_SKIP_PORTKEY=1 node bench/proxy.mjs     # BYO and direct only
//   BENCH_SKIP_BARE=1 node bench/proxy.mjs        # without the bare-proxy column (bench/bare-proxy.mjs)
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/proxy.mjs   # BYO on PostgreSQL,
//                                                  # one column with 1 worker and one with 2 (BYO_WORKERS)
//   BENCH_BYO_WORKERS=1,2,4 ...                    # the worker counts to run (more than 1 needs PostgreSQL)
//
// Portkey (`@portkey-ai/gateway`) is installed by this script into bench/.portkey (gitignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'undici';
import { byoBenchEnv, connectBenchKey } from './lib/byo.mjs';
import { printedPort, printedUrl, startChild } from './lib/child.mjs';
import { autocannonRun } from './lib/load.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const PORTKEY_VERSION = '1.15.2';
const UPSTREAM_KEY = 'sk-bench-upstream-key-0000000000';
const JSON_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
const SSE_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello' }] });

process.on('SIGINT', () => process.exit(130));

/** RSS of a process and its children (a BYO cluster primary and its workers), in MB. */
function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  return kb / 1024 + children.reduce((sum, c) => sum + rssMb(c), 0);
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (ns) => Number(ns) / 1e6;

async function sequentialLatency(target, body, n = 2000, warm = 300) {
  const url = new URL(target.url);
  const client = new Client(url.origin, { keepAliveTimeout: 60_000 });
  const lat = [];
  const ttfb = [];
  for (let i = 0; i < n + warm; i++) {
    const t0 = process.hrtime.bigint();
    const res = await client.request({ method: 'POST', path: url.pathname, headers: target.headers, body });
    let first = null;
    for await (const _chunk of res.body) {
      if (first === null) first = process.hrtime.bigint();
    }
    const t1 = process.hrtime.bigint();
    if (res.statusCode !== 200) throw new Error(`${target.name}: HTTP ${res.statusCode}`);
    if (i >= warm) {
      lat.push(ms(t1 - t0));
      ttfb.push(ms((first ?? t1) - t0));
    }
  }
  await client.close();
  lat.sort((a, b) => a - b);
  ttfb.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), ttfbP50: pct(ttfb, 50), ttfbP99: pct(ttfb, 99) };
}

async function maxThroughput(target, body) {
  const r = await autocannonRun({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body,
    connections: 50,
    duration: DURATION,
    pipelining: 1,
  });
  return { rps: r.requests.average, non2xx: r.non2xx + r.errors, p99: r.latency.p99 };
}

/**
 * Open loop: request i is due at t0 + i/rate; latency is measured from that intended time, so
 * a stalled server is charged for the requests that queue behind the stall. The generator sleeps
 * between sends (timers, ~1 ms granularity) instead of spinning: a busy loop would take one of a
 * 2-core machine's cores away from the server under test. The first `warmSeconds` run at the
 * same rate and are not recorded (steady state, not the aftermath of the previous phase).
 */
async function fixedRate(target, body, rate = 1000, seconds = DURATION, warmSeconds = 2) {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: 512, keepAliveTimeout: 60_000 });
  const skip = rate * warmSeconds;
  const total = skip + rate * seconds;
  const lat = [];
  let errors = 0;
  let sent = 0;
  const inflight = new Set();
  const t0 = process.hrtime.bigint();
  const intervalNs = BigInt(Math.round(1e9 / rate));
  const dueAt = (i) => t0 + BigInt(i) * intervalNs;
  await new Promise((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint();
      while (sent < total && dueAt(sent) <= now) {
        const intended = dueAt(sent);
        const recorded = sent >= skip;
        sent++;
        const p = pool
          .request({ method: 'POST', path: url.pathname, headers: target.headers, body })
          .then(async (res) => {
            await res.body.dump();
            if (!recorded) return;
            if (res.statusCode !== 200) errors++;
            lat.push(ms(process.hrtime.bigint() - intended));
          })
          .catch(() => {
            if (recorded) errors++;
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (sent < total) {
        const dueIn = Number(dueAt(sent) - process.hrtime.bigint()) / 1e6;
        setTimeout(tick, Math.max(0, Math.floor(dueIn)));
      } else Promise.allSettled([...inflight]).then(resolve);
    };
    tick();
  });
  await pool.close();
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), errors, achieved: lat.length / seconds };
}

async function openStreamsRss(target, pid, n = 1000) {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: n + 10 });
  const before = rssMb(pid);
  let firstChunks = 0;
  const done = [];
  await new Promise((resolve) => {
    for (let i = 0; i < n; i++) {
      done.push(
        pool
          .request({ method: 'POST', path: url.pathname, headers: { ...target.headers, 'x-bench-hold': '4000' }, body: SSE_BODY })
          .then(async (res) => {
            let seen = false;
            for await (const _c of res.body) {
              if (!seen) {
                seen = true;
                if (++firstChunks === n) resolve();
              }
            }
          })
          .catch(() => {}),
      );
    }
    setTimeout(resolve, 3500);
  });
  const during = rssMb(pid);
  await Promise.allSettled(done);
  await pool.close();
  return { before, during, open: firstChunks };
}

async function ensurePortkey() {
  const dir = join(here, '.portkey');
  const entry = join(dir, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  const manifest = JSON.stringify({
    private: true,
    dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION },
    // Newer @hono/node-server versions hand Portkey immutable response headers, which it then tries
    // to modify: streamed requests fail with `TypeError: immutable` on Node 20 (Portkey-AI/gateway#1389;
    // 1.14.2 still fails here, 1.13.8 works).
    overrides: { '@hono/node-server': '1.13.8' },
  });
  const current = existsSync(join(dir, 'package.json')) ? readFileSync(join(dir, 'package.json'), 'utf8') : '';
  if (!existsSync(entry) || current !== manifest) {
    process.stderr.write(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into bench/.portkey ...\n`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), manifest);
    execFileSync('npm', ['install', '--prefix', dir, '--ignore-scripts', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  }
  return entry;
}

async function main() {
  const serverMain = join(root, 'server/dist/main.js');
  if (!existsSync(serverMain)) throw new Error('build first: pnpm build');

  const mock = await startChild(process.execPath, [join(here, 'mock-upstream-fast.mjs'), '0'], {}, printedPort);
  const upstream = `http://127.0.0.1:${mock.port}/v1`;

  const { admin, env } = byoBenchEnv(upstream);
  // BYO once per worker count (BENCH_BYO_WORKERS, e.g. "1,2"; more than 1 needs PostgreSQL), all
  // on the same database and master key, so the project and key created below serve every column.
  const workerCounts = (process.env.BENCH_BYO_WORKERS ?? (process.env.DATABASE_URL ? '1,2' : '1')).split(',').map(Number);
  const byos = [];
  for (const workers of workerCounts) {
    // PostgreSQL when DATABASE_URL is set (a fresh schema), as in production; otherwise the
    // embedded PGlite in memory, which adds its own ~400 MB to BYO's RSS.
    const instance = await startChild(process.execPath, [serverMain], { ...env, BYO_WORKERS: String(workers) }, printedUrl);
    byos.push({ ...instance, workers, name: workers === 1 ? 'BYO' : `BYO x${workers}` });
  }
  const byo = byos[0];
  const sk = await connectBenchKey(byo.url, admin, UPSTREAM_KEY);

  const targets = [
    {
      name: 'direct',
      url: `${upstream}/chat/completions`,
      headers: { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json' },
      pid: mock.child.pid,
    },
    ...byos.map((b) => ({
      name: b.name,
      url: `${b.url}/v1/proxy/openai/chat/completions`,
      headers: { authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'bench', 'content-type': 'application/json' },
      pid: b.child.pid,
    })),
  ];
  if (!process.env.BENCH_SKIP_BARE) {
    const bare = await startChild(process.execPath, [join(here, 'bare-proxy.mjs'), `http://127.0.0.1:${mock.port}`], {}, printedPort);
    targets.push({
      name: 'bare',
      url: `http://127.0.0.1:${bare.port}/chat/completions`,
      headers: { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json' },
      pid: bare.child.pid,
    });
  }
  if (!process.env.BENCH_SKIP_PORTKEY) {
    const entry = await ensurePortkey();
    // Portkey takes a fixed --port; pick one at random in a quiet range.
    const port = 18787 + Math.floor(Math.random() * 1000);
    const pk = await startChild(process.execPath, [entry, `--port=${port}`, '--headless'], { NODE_ENV: 'production' }, (o) =>
      /running at/.test(o) ? { ok: true } : null,
    );
    targets.push({
      name: 'Portkey',
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      headers: {
        authorization: `Bearer ${UPSTREAM_KEY}`,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': upstream,
        'content-type': 'application/json',
      },
      pid: pk.child.pid,
    });
  }

  const results = {};
  for (const t of targets) {
    // A phase that fails (e.g. the peer cannot stream on this Node version) is reported as "-".
    const attempt = async (label, fn) => {
      try {
        return await fn();
      } catch (err) {
        process.stderr.write(`[${t.name}] ${label} failed: ${err.message}\n`);
        return null;
      }
    };
    process.stderr.write(`\n[${t.name}] unloaded latency ...\n`);
    const json1 = await attempt('JSON unloaded', () => sequentialLatency(t, JSON_BODY));
    const sse1 = await attempt('SSE unloaded', () => sequentialLatency(t, SSE_BODY, 1000, 200));
    process.stderr.write(`[${t.name}] max throughput (50 connections, ${DURATION}s each) ...\n`);
    const jsonMax = await attempt('JSON max', () => maxThroughput(t, JSON_BODY));
    const sseMax = sse1 ? await attempt('SSE max', () => maxThroughput(t, SSE_BODY)) : null;
    process.stderr.write(`[${t.name}] fixed 1,000 req/s open loop (${DURATION}s each) ...\n`);
    const jsonRate = await attempt('JSON rate', () => fixedRate(t, JSON_BODY));
    const sseRate = sse1 ? await attempt('SSE rate', () => fixedRate(t, SSE_BODY)) : null;
    const rssIdle = rssMb(t.pid);
    const streams = t.name === 'direct' || !sse1 ? null : await attempt('open streams', () => openStreamsRss(t, t.pid));
    results[t.name] = { json1, sse1, jsonMax, sseMax, jsonRate, sseRate, rssIdle, streams };
    process.stderr.write(`${JSON.stringify(results[t.name])}\n`);
  }

  const d = results.direct;
  const f = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
  const g = (o, k) => (o ? o[k] : Number.NaN);
  const rows = [
    ['metric', ...Object.keys(results)],
    ['JSON unloaded p50 / p99 (ms)', ...Object.values(results).map((r) => `${f(g(r.json1, 'p50'))} / ${f(g(r.json1, 'p99'))}`)],
    ['SSE unloaded p50 / p99 (ms)', ...Object.values(results).map((r) => `${f(g(r.sse1, 'p50'))} / ${f(g(r.sse1, 'p99'))}`)],
    ['SSE time to first byte p50 (ms)', ...Object.values(results).map((r) => f(g(r.sse1, 'ttfbP50')))],
    [
      'JSON max req/s (50 conn)',
      ...Object.values(results).map((r) => `${f(g(r.jsonMax, 'rps'), 0)} (${f((100 * g(r.jsonMax, 'rps')) / d.jsonMax.rps, 0)}%)`),
    ],
    [
      'SSE max req/s (50 conn)',
      ...Object.values(results).map((r) => `${f(g(r.sseMax, 'rps'), 0)} (${f((100 * g(r.sseMax, 'rps')) / d.sseMax.rps, 0)}%)`),
    ],
    [
      'JSON @1000/s p50 / p99 (ms)',
      ...Object.values(results).map(
        (r) => `${f(g(r.jsonRate, 'p50'))} / ${f(g(r.jsonRate, 'p99'))}${r.jsonRate?.errors ? ` (${r.jsonRate.errors} err)` : ''}`,
      ),
    ],
    [
      'SSE @1000/s p50 / p99 (ms)',
      ...Object.values(results).map(
        (r) => `${f(g(r.sseRate, 'p50'))} / ${f(g(r.sseRate, 'p99'))}${r.sseRate?.errors ? ` (${r.sseRate.errors} err)` : ''}`,
      ),
    ],
    ['RSS idle after load (MB)', ...Object.values(results).map((r) => f(r.rssIdle, 0))],
    [
      'RSS with 1,000 open streams (MB)',
      ...Object.values(results).map((r) => (r.streams ? `${f(r.streams.during, 0)} (${r.streams.open} open)` : '-')),
    ],
    ['errors (non-2xx) in max runs', ...Object.values(results).map((r) => String((r.jsonMax?.non2xx ?? 0) + (r.sseMax?.non2xx ?? 0)))],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  for (const { name } of byos) {
    const b = results[name];
    console.log('');
    console.log(
      `${name} added latency, unloaded: JSON ${f(b.json1.p50 - d.json1.p50)} ms p50, SSE TTFB ${f(b.sse1.ttfbP50 - d.sse1.ttfbP50)} ms p50`,
    );
    console.log(
      `${name} added latency at 1000/s: JSON ${f(b.jsonRate.p50 - d.jsonRate.p50)} ms p50, ${f(b.jsonRate.p99 - d.jsonRate.p99)} ms p99`,
    );
    console.log(
      `${name} added latency at 1000/s: SSE ${f(b.sseRate.p50 - d.sseRate.p50)} ms p50, ${f(b.sseRate.p99 - d.sseRate.p99)} ms p99`,
    );
    console.log(
      `${name} throughput vs direct: JSON ${f((100 * b.jsonMax.rps) / d.jsonMax.rps, 0)}%, SSE ${f((100 * b.sseMax.rps) / d.sseMax.rps, 0)}%`,
    );
  }
  const b = results[byos[0].name];
  const bare = results.bare;
  if (bare?.jsonMax && bare?.sseMax) {
    console.log(
      `${byos[0].name} throughput vs the bare Node.js proxy: JSON ${f((100 * b.jsonMax.rps) / bare.jsonMax.rps, 0)}%, SSE ${f((100 * b.sseMax.rps) / bare.sseMax.rps, 0)}%`,
    );
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
