#!/usr/bin/env node
// Instructions per proxied call, counted by valgrind (callgrind), for BYO and the bare Node.js
// proxy (bench/bare-proxy.mjs) against the fast local mock upstream, JSON and SSE.
//
// Why: on a shared 2-vCPU virtual machine the CPU time per call of the same build moves by 20-30%
// between runs minutes apart, which hides a change worth 2-5%. An instruction count does not
// depend on what else the machine does: the same build counts within ~1% run to run. It leaves
// out the kernel (socket reads and writes, about a quarter of a call's CPU) and memory stalls,
// so it ranks changes to BYO's own work; throughput is still bench/proxy.mjs's to measure.
//
//   pnpm build
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/proxy-instructions.mjs
//   INSTR_CALLS=4000 INSTR_WARMUP=15000 INSTR_TARGETS=byo,bare INSTR_BODIES=json,sse node bench/proxy-instructions.mjs
//
// Each target runs under `valgrind --tool=callgrind --instr-atstart=no` (about 50x slower), gets
// INSTR_WARMUP calls (50 connections) so V8 has compiled the hot path, and is counted over the next
// INSTR_CALLS calls only (callgrind_control switches instrumentation on and off). The count covers
// every thread of the process (V8's compiler and GC helpers too). Needs valgrind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { connectBenchKey } from './lib/byo.mjs';
import { printedPort, printedUrl, startChild } from './lib/child.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const CALLS = Number(process.env.INSTR_CALLS ?? 4000);
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
  return new Promise((resolve, reject) =>
    autocannon({ url, method: 'POST', headers, body, connections: 50, amount }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}

async function startTarget(name, upstream, outDir) {
  const valgrind = ['--tool=callgrind', '--cache-sim=no', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, 'cg.%p')}`];
  if (name === 'bare') {
    const t = await startChild('valgrind', [...valgrind, process.execPath, join(here, 'bare-proxy.mjs'), upstream], { HOST }, printedPort);
    const headers = { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json' };
    return { ...t, url: `http://127.0.0.1:${t.port}/chat/completions`, headers };
  }
  const admin = `bench_admin_${randomBytes(16).toString('hex')}`;
  const schema = `instr_${randomBytes(4).toString('hex')}`;
  const db = process.env.DATABASE_URL ?? '';
  if (db)
    process.on('exit', () => {
      try {
        execFileSync('psql', [db, '-qc', `drop schema if exists "${schema}" cascade`], { stdio: 'ignore' });
      } catch {}
    });
  const t = await startChild(
    'valgrind',
    [...valgrind, process.execPath, join(root, 'server/dist/main.js')],
    {
      PORT: '0',
      HOST,
      LOG_LEVEL: 'warn',
      BYO_EMBEDDED_STORAGE: 'memory',
      BYO_ADMIN_TOKEN: admin,
      BYO_MASTER_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      BYO_OPENAI_BASE_URL: `${upstream}/v1`,
      BYO_SEED_DEV_PROJECT: 'false',
      DATABASE_URL: db,
      ...(db ? { BYO_DATABASE_SCHEMA: schema } : {}),
    },
    printedUrl,
  );
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
      callgrindControl(target.child.pid, '-i', 'on');
      const r = await load(target.url, target.headers, BODY[kind], CALLS);
      callgrindControl(target.child.pid, '-i', 'off');
      callgrindControl(target.child.pid, '-d');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const bad = r.non2xx + r.errors;
      if (bad) throw new Error(`${name} ${kind}: ${bad} failed calls`);
      results[name][kind] = Math.round(dumpedInstructions(outDir) / r.requests.total);
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
