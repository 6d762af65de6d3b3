#!/usr/bin/env node
// Spend limits on the proxy's hot path: the same build as two BYO processes, one
// project with no limits (the fast path: one cached "this project has no limits" check) and one
// with 3 limits in force on the calling customer (requests per minute, tokens per day, cost_usd
// per month, maxima high enough that nothing is refused: every call charges 3 counters in one
// statement, reserves tokens and cost from its body, and settles afterwards). A third process has
// the same 3 limits as its project default and spreads the calls over 50 customers (each call the
// next refId), so concurrent calls charge different counter rows. Alternating rounds against the
// fast local mock upstream, 50 connections, as bench/proxy-ab.mjs does.
//
//   pnpm --filter byo-server build
//   node bench/limits.mjs                                                    # PGlite in memory
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/limits.mjs  # PostgreSQL
//   REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=... node bench/limits.mjs     # counters in Redis
//   LIMITS_ROUNDS=4 LIMITS_DURATION=6 ...
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { byoBenchEnv, connectBenchKey } from './lib/byo.mjs';
import { printedPort, printedUrl, startChild } from './lib/child.mjs';
import { autocannonRun, median } from './lib/load.mjs';
import { cpuSeconds } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '../server/dist');
const ROUNDS = Number(process.env.LIMITS_ROUNDS ?? 4);
const DURATION = Number(process.env.LIMITS_DURATION ?? 6);
const BODY = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
const LIMITS = [
  { metric: 'requests', window: 'minute', max: 1e9 },
  { metric: 'tokens', window: 'day', max: 1e12 },
  { metric: 'cost_usd', window: 'month', max: 1e9 },
];

const CUSTOMERS = 50;

async function call(url, sk, method, body) {
  const r = await request(url, {
    method,
    headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.statusCode !== 200) throw new Error(`${method} ${url}: ${await r.body.text()}`);
  await r.body.dump();
}

/** `customers` 1: the 'bench' customer with its own limits; more: the limits as the project default, calls spread over that many refIds. */
async function start(name, upstream, limits, customers = 1) {
  const { admin, env } = byoBenchEnv(`${upstream}/v1`);
  if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
  const t = await startChild(process.execPath, [join(dist, 'main.js')], env, printedUrl);
  const sk = await connectBenchKey(t.url, admin, 'sk-bench-upstream-key-0000000000');
  for (let i = 0; i < customers && customers > 1; i++)
    await call(`${t.url}/v1/keys/connect`, sk, 'POST', {
      provider: 'openai',
      refId: `bench_${i}`,
      providerKey: 'sk-bench-upstream-key-0000000000',
    });
  if (limits.length) await call(`${t.url}/v1/${customers > 1 ? 'limits/default' : 'customers/bench/limits'}`, sk, 'PUT', { limits });
  let n = 0;
  return {
    name,
    pid: t.child.pid,
    url: `${t.url}/v1/proxy/openai/chat/completions`,
    headers: { authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'bench', 'content-type': 'application/json' },
    setupRequest:
      customers > 1 ? (req) => ({ ...req, headers: { ...req.headers, 'x-byo-ref-id': `bench_${n++ % customers}` } }) : undefined,
    cpu: [],
    rps: [],
    p50: [],
    p99: [],
  };
}

const load = (t, seconds) =>
  autocannonRun({
    url: t.url,
    method: 'POST',
    headers: t.headers,
    body: BODY,
    connections: 50,
    duration: seconds,
    ...(t.setupRequest ? { requests: [{ setupRequest: t.setupRequest }] } : {}),
  });

async function main() {
  const mock = await startChild(process.execPath, [join(here, 'mock-upstream-fast.mjs')], {}, printedPort);
  const upstream = `http://127.0.0.1:${mock.port}`;
  const targets = [
    await start('0 limits', upstream, []),
    await start('3 limits, one customer', upstream, LIMITS),
    await start(`3 limits, ${CUSTOMERS} customers`, upstream, LIMITS, CUSTOMERS),
  ];
  for (const t of targets) await load(t, 5);
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const before = cpuSeconds(t.pid);
      const r = await load(t, DURATION);
      if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      t.cpu.push(((cpuSeconds(t.pid) - before) * 1e6) / r.requests.total);
      t.rps.push(r.requests.total / DURATION);
      t.p50.push(r.latency.p50);
      t.p99.push(r.latency.p99);
    }
    console.log(
      `round ${round + 1}: ${targets.map((t) => `${t.name} ${t.cpu.at(-1).toFixed(0)} µs, ${Math.round(t.rps.at(-1))}/s, p50 ${t.p50.at(-1)} ms`).join(' | ')}`,
    );
  }
  const store = process.env.REDIS_URL ? 'Redis' : process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
  console.log(`| ${store}, 50 connections | BYO CPU per call | calls/s | latency p50 | latency p99 |`);
  console.log('|---|---|---|---|---|');
  for (const t of targets)
    console.log(
      `| ${t.name} | ${median(t.cpu).toFixed(0)} µs | ${Math.round(median(t.rps))} | ${median(t.p50)} ms | ${median(t.p99)} ms |`,
    );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
