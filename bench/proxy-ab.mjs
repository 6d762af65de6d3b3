#!/usr/bin/env node
// Alternating A/B comparison of BYO builds: the CPU time the BYO process spends per proxied call,
// and its throughput, at 50 connections against the fast local mock upstream.
//
// Why: on a shared 2-vCPU virtual machine the same build's CPU time per call moves by 20-30%
// between runs minutes apart. Running the builds in turns (the order swapped each round), each
// against the same mock, cancels most of that drift; a difference below ~3% is still noise.
//
//   git worktree add /tmp/before <commit> && (cd /tmp/before && pnpm install && pnpm build)
//   pnpm build
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/proxy-ab.mjs /tmp/before/server/dist server/dist
//   AB_ROUNDS=5 AB_DURATION=6 AB_BODY=sse ...
//
// Each argument is a built `server/dist` directory. Every build runs as its own BYO process (on
// PostgreSQL, a fresh schema each, when DATABASE_URL is set; else on PGlite in memory), is warmed
// up for 6 s, then gets AB_DURATION seconds of load per round. Prints each round and the medians.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byoBenchEnv, connectBenchKey } from './lib/byo.mjs';
import { printedPort, printedUrl, startChild } from './lib/child.mjs';
import { autocannonRun, median } from './lib/load.mjs';
import { cpuSeconds } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const DURATION = Number(process.env.AB_DURATION ?? 6);
const KIND = process.env.AB_BODY ?? 'json';
const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  ...(KIND === 'sse' ? { stream: true } : {}),
  messages: [{ role: 'user', content: 'Say hello' }],
});
const UPSTREAM_KEY = 'sk-bench-upstream-key-0000000000';

function load(target, seconds) {
  return autocannonRun({ url: target.url, method: 'POST', headers: target.headers, body: BODY, connections: 50, duration: seconds });
}

async function startBuild(dist, upstream) {
  const { admin, env } = byoBenchEnv(`${upstream}/v1`);
  const t = await startChild(process.execPath, [join(dist, 'main.js')], env, printedUrl);
  const sk = await connectBenchKey(t.url, admin, UPSTREAM_KEY);
  return {
    name: dist,
    pid: t.child.pid,
    url: `${t.url}/v1/proxy/openai/chat/completions`,
    headers: { authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'bench', 'content-type': 'application/json' },
    cpuPerCall: [],
    perSecond: [],
  };
}

async function main() {
  const dists = process.argv.slice(2).map((d) => resolve(d));
  if (dists.length < 2) throw new Error('usage: node bench/proxy-ab.mjs <server/dist A> <server/dist B> [...]');
  for (const d of dists) if (!existsSync(join(d, 'main.js'))) throw new Error(`${d}/main.js not found: build it first (pnpm build)`);
  const mock = await startChild(process.execPath, [join(here, 'mock-upstream-fast.mjs')], {}, printedPort);
  const upstream = `http://127.0.0.1:${mock.port}`;
  const targets = [];
  for (const d of dists) targets.push(await startBuild(d, upstream));
  for (const t of targets) {
    process.stderr.write(`warming up ${t.name} ...\n`);
    await load(t, 6);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const before = cpuSeconds(t.pid);
      const r = await load(t, DURATION);
      const used = cpuSeconds(t.pid) - before;
      if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      t.cpuPerCall.push((used * 1e6) / r.requests.total);
      t.perSecond.push(r.requests.total / DURATION);
    }
    console.log(
      `round ${round + 1}: ${targets.map((t) => `${t.cpuPerCall.at(-1).toFixed(1)} µs, ${Math.round(t.perSecond.at(-1))}/s`).join(' | ')}`,
    );
  }
  console.log(`| build | CPU per ${KIND.toUpperCase()} call (median) | calls/s (median) |`);
  console.log('|---|---|---|');
  for (const t of targets) console.log(`| ${t.name} | ${median(t.cpuPerCall).toFixed(1)} µs | ${Math.round(median(t.perSecond))} |`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
