#!/usr/bin/env node
// Instructions per proxied call, counted by valgrind (callgrind), for BYO and the bare Node.js
// proxy (bench/bare-proxy.mjs) against the fast local mock upstream, JSON and SSE.
//
// Why: on a shared 2-vCPU virtual machine the CPU time per call of the same build moves by 20-30%
// between runs minutes apart, which hides a change worth 2-5%. An instruction count does not
// depend on what else the machine does: on one machine the same build counted within ~1% run to
// run; on another, single windows of the same build ranged from 250k to 425k per call (V8
// recompiling after deoptimizations, full GCs), hence the median of several windows. It leaves
// out the kernel (socket reads and writes, about a quarter of a call's CPU) and memory stalls,
// so it ranks changes to BYO's own work; throughput is still bench/proxy.mjs's to measure.
//
//   pnpm build
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/proxy-instructions.mjs
//   INSTR_CALLS=4000 INSTR_WARMUP=15000 INSTR_TARGETS=byo,bare INSTR_BODIES=json,sse node bench/proxy-instructions.mjs
//
// Each target runs under `valgrind --tool=callgrind --instr-atstart=no` (about 50x slower), gets
// INSTR_WARMUP calls (50 connections) so V8 has compiled the hot path, and is counted over the next
// INSTR_CALLS calls only (callgrind_control switches instrumentation on and off), in INSTR_WINDOWS
// windows (default 5) whose median is reported; each window's count goes to stderr. The count covers
// every thread of the process (V8's compiler and GC helpers too). Needs valgrind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byoBenchEnv, connectBenchKey } from './lib/byo.mjs';
import { printedPort, printedUrl, startChild } from './lib/child.mjs';
import { autocannonRun, median } from './lib/load.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const CALLS = Number(process.env.INSTR_CALLS ?? 4000);
const WINDOWS = Number(process.env.INSTR_WINDOWS ?? 5);
const WARMUP = Number(process.env.INSTR_WARMUP ?? 15000);
const TARGETS = (process.env.INSTR_TARGETS ?? 'byo,bare').split(',');
const BODIES = (process.env.INSTR_BODIES ?? 'json,sse').split(',');
const UPSTREAM_KEY = 'sk-bench-upstream-key-0000000000';
const BODY = {
  json: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] }),
  sse: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say hello' }] }),
};
// valgrind names its control pipe after $HOST, which BYO also reads (its bind address): give
// callgrind_control the same value so it finds the process.
const HOST = '127.0.0.1';

function callgrindControl(pid, ...args) {
  execFileSync('callgrind_control', [...args, String(pid)], { env: { ...process.env, HOST }, stdio: 'ignore' });
}

function load(url, headers, body, amount) {
  return autocannonRun({ url, method: 'POST', headers, body, connections: 50, amount });
}

async function startTarget(name, upstream, outDir) {
  const valgrind = ['--tool=callgrind', '--cache-sim=no', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, 'cg.%p')}`];
  if (name === 'bare') {
    const t = await startChild('valgrind', [...valgrind, process.execPath, join(here, 'bare-proxy.mjs'), upstream], { HOST }, printedPort);
    const headers = { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json' };
    return { ...t, url: `http://127.0.0.1:${t.port}/chat/completions`, headers };
  }
  const { admin, env } = byoBenchEnv(`${upstream}/v1`);
  const t = await startChild('valgrind', [...valgrind, process.execPath, join(root, 'server/dist/main.js')], { ...env, HOST }, printedUrl);
  const sk = await connectBenchKey(t.url, admin, UPSTREAM_KEY);
  const headers = { authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'bench', 'content-type': 'application/json' };
  return { ...t, url: `${t.url}/v1/proxy/openai/chat/completions`, headers };
}

/** The instructions callgrind counted in the dumps written to `dir` since the last call. */
function dumpedInstructions(dir) {
  let total = 0;
  for (const f of readdirSync(dir)) {
    const m = /^totals:\s+(\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) total += Number(m[1]);
    rmSync(join(dir, f));
  }
  return total;
}

async function main() {
  if (!existsSync(join(root, 'server/dist/main.js'))) throw new Error('build first: pnpm build');
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  const mock = await startChild(process.execPath, [join(here, 'mock-upstream-fast.mjs')], {}, printedPort);
  const upstream = `http://127.0.0.1:${mock.port}`;
  const results = {};
  for (const name of TARGETS) {
    const outDir = mkdtempSync(join(tmpdir(), `byo-instr-${name}-`));
    process.stderr.write(`[${name}] starting under callgrind ...\n`);
    const target = await startTarget(name, upstream, outDir);
    results[name] = {};
    for (const kind of BODIES) {
      process.stderr.write(`[${name}] ${kind}: ${WARMUP} warm-up calls, then ${CALLS} counted ...\n`);
      await load(target.url, target.headers, BODY[kind], WARMUP);
      dumpedInstructions(outDir); // nothing counted yet; clears the start-up dump if any
      // Counted in INSTR_WINDOWS windows, the median kept: a window where V8 recompiles a hot
      // function (after a deoptimization) or runs a full GC counts far more than the others.
      const perWindow = [];
      for (let w = 0; w < WINDOWS; w++) {
        callgrindControl(target.child.pid, '-i', 'on');
        const r = await load(target.url, target.headers, BODY[kind], Math.ceil(CALLS / WINDOWS));
        callgrindControl(target.child.pid, '-i', 'off');
        callgrindControl(target.child.pid, '-d');
        await new Promise((resolve) => setTimeout(resolve, 500));
        const bad = r.non2xx + r.errors;
        if (bad) throw new Error(`${name} ${kind}: ${bad} failed calls`);
        perWindow.push(Math.round(dumpedInstructions(outDir) / r.requests.total));
      }
      process.stderr.write(`[${name}] ${kind}: per window ${perWindow.map((n) => `${Math.round(n / 1000)}k`).join(' ')}\n`);
      results[name][kind] = median(perWindow);
    }
    target.child.kill('SIGKILL');
    rmSync(outDir, { recursive: true, force: true });
  }
  const fmt = (n) => (n === undefined ? '-' : `${Math.round(n / 1000)}k`);
  console.log(`| target | ${BODIES.map((b) => `${b.toUpperCase()} instructions per call`).join(' | ')} |`);
  console.log(`|---|${BODIES.map(() => '---').join('|')}|`);
  for (const name of TARGETS) console.log(`| ${name} | ${BODIES.map((b) => fmt(results[name][b])).join(' | ')} |`);
  if (results.byo && results.bare)
    for (const b of BODIES) console.log(`BYO / bare, ${b}: ${(results.byo[b] / results.bare[b]).toFixed(2)}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
