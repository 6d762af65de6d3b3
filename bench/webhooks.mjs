#!/usr/bin/env node
// Webhook benchmark on PostgreSQL: (1) latency from a change's commit to its delivery arriving,
// at a steady 200 events/s made through the API; (2) deliveries per second while draining a
// backlog, with 1 and with 2 server instances. Everything runs on 127.0.0.1.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/webhooks.mjs
//   BENCH_RATE=200 BENCH_SECONDS=20 BENCH_BACKLOG=20000 BENCH_INSTANCES=1,2 node bench/webhooks.mjs
//
// The server runs from source through tsx (BENCH_DIST=1: from server/dist, after pnpm build).
// Each run uses a fresh PostgreSQL schema, dropped at the end.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from '../server/node_modules/pg/lib/index.js';
import { Pool, request } from '../server/node_modules/undici/index.js';
import { printedUrl, startChild } from './lib/child.mjs';
import { cpuSeconds } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20_000);
const STEADY = (process.env.BENCH_STEADY ?? 'outbox,api').split(',').filter(Boolean);
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2').split(',').filter(Boolean).map(Number);
const CONCURRENCY = process.env.BYO_WEBHOOK_CONCURRENCY ?? '64';
const tsxLoader = pathToFileURL(join(root, 'server/node_modules/tsx/dist/esm/index.mjs')).href;
const schema = `bench_wh_${randomBytes(4).toString('hex')}`;

process.on('SIGINT', () => process.exit(130));

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '-');

function startServer(env) {
  const dist = join(root, 'server/dist/main.js');
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [cmd, args] =
    process.env.BENCH_DIST && existsSync(dist)
      ? [process.execPath, [...nodeArgs, dist, 'start']]
      : [process.execPath, [...nodeArgs, '--import', tsxLoader, join(root, 'server/src/main.ts'), 'start']];
  return startChild(cmd, args, env, printedUrl).then((server) => {
    server.child.stderr.on('data', (d) => process.stderr.write(d));
    return server;
  });
}

/** CPU seconds of a process, or NaN once it is gone. */
function cpuSecondsOrNaN(pid) {
  try {
    return cpuSeconds(pid);
  } catch {
    return Number.NaN;
  }
}
const serversCpu = (list) => list.reduce((sum, s) => sum + cpuSecondsOrNaN(s.child.pid), 0);

/**
 * The PostgreSQL backends serving these server processes (matched by the servers' local TCP
 * ports, from `ss`, against pg_stat_activity.client_port), so their CPU can be counted too.
 */
async function backendPids(db, list) {
  const pids = new Set(list.map((s) => String(s.child.pid)));
  const ports = new Set();
  const port = new URL(DATABASE_URL).port || '5432';
  for (const line of execFileSync('ss', ['-tnpH'], { encoding: 'utf8' }).split('\n')) {
    const m = /\S+\s+\d+\s+\d+\s+127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)\s.*pid=(\d+),/.exec(line);
    if (m && m[2] === port && pids.has(m[3])) ports.add(Number(m[1]));
  }
  const r = await db.query('select pid, client_port from pg_stat_activity where client_port is not null');
  return r.rows.filter((x) => ports.has(x.client_port)).map((x) => x.pid);
}
const pgCpu = (pids) => pids.reduce((sum, pid) => sum + cpuSecondsOrNaN(pid), 0);

async function stopServer(s) {
  const done = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await done;
}

/** The receiver: answers 200 at once and notes when each event id first arrived. */
async function startReceiver() {
  const arrivals = new Map();
  let total = 0;
  const server = createServer((req, res) => {
    const id = req.headers['webhook-id'];
    if (!id) {
      req.resume();
      req.on('end', () => res.end('ok'));
      return;
    }
    req.resume();
    req.on('end', () => {
      total++;
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    arrivals,
    get total() {
      return total;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

async function api(base, method, path, key, body) {
  const res = await request(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

async function waitUntil(pred, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function main() {
  const loadAtStart = loadavg()[0].toFixed(1);
  const admin = `bench_admin_${randomBytes(16).toString('hex')}`;
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL,
    BYO_DATABASE_SCHEMA: schema,
    BYO_ADMIN_TOKEN: admin,
    BYO_MASTER_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    BYO_SEED_DEV_PROJECT: 'false',
    BYO_WEBHOOK_CONCURRENCY: CONCURRENCY,
    // One secret key makes every connect of a run: no per-key limit.
    BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY: '0',
  };
  const receiver = await startReceiver();
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  let servers = [await startServer(env)];
  try {
    const base = servers[0].url;
    const created = await api(base, 'POST', '/v1/admin/projects', admin, { name: 'bench' });
    const projectId = created.project.id;
    const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'test').key;
    await api(base, 'POST', '/v1/webhooks/endpoints', sk, { url: receiver.url });

    // 1. Steady RATE events/s, open loop (event i is due at t0 + i/RATE), in two ways:
    //    - outbox: each event committed straight into the outbox by another PostgreSQL client,
    //      with a NOTIFY in the same commit (exactly what another BYO instance does); the
    //      commit time is when that statement returned.
    //    - api: each event made by a real POST /v1/keys/connect; "commit" is when the API
    //      answered (it commits before answering), and "request" when the call was sent.
    // 0. Control: a plain HTTP POST to the receiver at the same rate, for the same time. Its
    //    latency is what this machine adds to any local request (scheduling, load from others).
    const control = [];
    {
      const pool = new Pool(new URL(receiver.url).origin, { connections: 64 });
      const total = RATE * Math.min(SECONDS, 10);
      const t0 = performance.now();
      const inflight = new Set();
      await new Promise((resolve) => {
        let i = 0;
        const tick = () => {
          while (i < total && t0 + (i * 1000) / RATE <= performance.now()) {
            i++;
            const started = performance.now();
            const p = pool
              .request({ method: 'POST', path: '/control', headers: { 'content-type': 'application/json' }, body: '{}' })
              .then(async (res) => {
                await res.body.dump();
                control.push(performance.now() - started);
              })
              .catch(() => {})
              .finally(() => inflight.delete(p));
            inflight.add(p);
          }
          if (i < total) setTimeout(tick, 1);
          else Promise.allSettled([...inflight]).then(resolve);
        };
        tick();
      });
      await pool.close();
      control.sort((x, y) => x - y);
    }

    const steady = [];
    for (const mode of STEADY) {
      const total = RATE * SECONDS;
      const marks = new Map(); // event key -> { started, committed }
      let errors = 0;
      const inflight = new Set();
      const httpPool = new Pool(new URL(servers[0].url).origin, { connections: 64 });
      const pgPool = new pg.Pool({ connectionString: DATABASE_URL, max: 16 });
      const cpu0 = serversCpu(servers);
      const arrivals0 = receiver.arrivals.size;
      process.stderr.write(`steady (${mode}): ${total} events at ${RATE}/s ...\n`);
      const t0 = performance.now();
      const make = (i) => {
        const key = `${mode}_${i}`;
        const started = performance.now();
        if (mode === 'outbox') {
          return pgPool
            .query(
              `with e as (insert into "${schema}".events (id, project_id, mode, type, data)
                 values ($1, $2, 'test', 'key.connected', jsonb_build_object('provider', 'openai', 'refId', $1::text, 'keyHint', 'sk-...alid')))
               select pg_notify($3, '')`,
              [key, projectId, `byo_events_${schema}`],
            )
            .then(() => marks.set(key, { started, committed: performance.now() }));
        }
        return httpPool
          .request({
            method: 'POST',
            path: '/v1/keys/connect',
            headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider: 'openai', refId: key, providerKey: 'sk-byo-test-valid' }),
          })
          .then(async (res) => {
            await res.body.dump();
            if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
            marks.set(key, { started, committed: performance.now() });
          });
      };
      await new Promise((resolve) => {
        let i = 0;
        const tick = () => {
          const now = performance.now();
          while (i < total && t0 + (i * 1000) / RATE <= now) {
            const p = make(i++)
              .catch(() => errors++)
              .finally(() => inflight.delete(p));
            inflight.add(p);
          }
          if (i < total) setTimeout(tick, 1);
          else Promise.allSettled([...inflight]).then(resolve);
        };
        tick();
      });
      const achieved = total / ((performance.now() - t0) / 1000);
      await waitUntil(() => receiver.arrivals.size - arrivals0 >= marks.size, 120_000, `steady ${mode} deliveries`);
      const cpuMs = ((serversCpu(servers) - cpu0) * 1000) / Math.max(1, marks.size);
      // Event id -> key: the outbox mode uses the key as the id; the api mode has it as refId.
      const rows = await db.query(`select id, data->>'refId' as ref from "${schema}".events where data->>'refId' like $1`, [`${mode}_%`]);
      const fromCommit = [];
      const fromRequest = [];
      for (const r of rows.rows) {
        const m = marks.get(r.ref);
        const at = receiver.arrivals.get(r.id);
        if (!m || at === undefined) continue;
        fromCommit.push(Math.max(0, at - m.committed));
        fromRequest.push(at - m.started);
      }
      fromCommit.sort((x, y) => x - y);
      fromRequest.sort((x, y) => x - y);
      steady.push({ mode, achieved, n: marks.size, errors, cpuMs, fromCommit, fromRequest });
      await httpPool.close();
      await pgPool.end();
    }

    // 2. Backlog drain: with n instances running, BACKLOG events are committed straight into
    //    the outbox in one transaction, and a NOTIFY wakes the dispatchers (as a commit on
    //    another instance would). Timed from that commit to the last arrival.
    const drains = [];
    for (const n of INSTANCES) {
      for (const s of servers) await stopServer(s);
      servers = [];
      for (let k = 0; k < n; k++) servers.push(await startServer(env));
      await db.query(`delete from "${schema}".webhook_deliveries`);
      await db.query(`delete from "${schema}".events`);
      const before = receiver.total;
      process.stderr.write(`backlog: ${BACKLOG} events, ${n} instance(s) ...\n`);
      await db.query('begin');
      await db.query(
        `insert into "${schema}".events (id, project_id, mode, type, data)
         select 'evt_bench_' || $3 || '_' || g, $1, 'test', 'key.connected',
                jsonb_build_object('provider', 'openai', 'refId', 'backlog_' || g, 'keyHint', 'sk-...alid')
         from generate_series(1, $2) g`,
        [projectId, BACKLOG, n],
      );
      await db.query('commit');
      const backends = await backendPids(db, servers);
      const start = performance.now();
      const cpu0 = serversCpu(servers);
      const pg0 = pgCpu(backends);
      const rx0 = process.cpuUsage();
      await db.query('select pg_notify($1, $2)', [`byo_events_${schema}`, '']);
      await waitUntil(() => receiver.total - before >= BACKLOG, 600_000, 'backlog drained');
      const seconds = (performance.now() - start) / 1000;
      const cpu = serversCpu(servers) - cpu0;
      // Backends opened during the drain count in full (they started after it began).
      const later = (await backendPids(db, servers)).filter((pid) => !backends.includes(pid));
      const pgUsed = pgCpu(backends) - pg0 + pgCpu(later);
      backends.push(...later);
      const rx = process.cpuUsage(rx0);
      const benchUsed = (rx.user + rx.system) / 1e6;
      await new Promise((r) => setTimeout(r, 500));
      drains.push({
        n,
        seconds,
        rate: BACKLOG / seconds,
        dup: receiver.total - before - BACKLOG,
        cpuMsPer: (cpu * 1000) / BACKLOG,
        pgMsPer: (pgUsed * 1000) / BACKLOG,
        receiverMsPer: (benchUsed * 1000) / BACKLOG,
        backends: backends.length,
      });
    }

    const lines = [
      '',
      `Webhooks on PostgreSQL (${new URL(DATABASE_URL).host}), BYO_WEBHOOK_CONCURRENCY=${CONCURRENCY}, ${cpus().length} CPUs, load average at start ${loadAtStart}`,
      '',
      `control: a plain 127.0.0.1 POST at ${RATE}/s (what this machine adds to any request)`,
      `  p50 ${f1(pct(control, 50))} ms   p99 ${f1(pct(control, 99))} ms`,
      '',
      ...steady.flatMap((x) => [
        `steady ${RATE} events/s for ${SECONDS} s via ${x.mode} (achieved ${f1(x.achieved)}/s, ${x.n} events, ${x.errors} errors)`,
        `  commit -> arrival    p50 ${f1(pct(x.fromCommit, 50))} ms   p99 ${f1(pct(x.fromCommit, 99))} ms   max ${f1(x.fromCommit.at(-1))} ms`,
        ...(x.mode === 'api' ? [`  request -> arrival   p50 ${f1(pct(x.fromRequest, 50))} ms   p99 ${f1(pct(x.fromRequest, 99))} ms`] : []),
        `  server CPU per event: ${x.cpuMs.toFixed(2)} ms${x.mode === 'api' ? ' (the connect call and the delivery)' : ''}`,
        '',
      ]),
      `backlog of ${BACKLOG} events drained:`,
      ...drains.map(
        (d) =>
          `  ${d.n} instance(s): ${f1(d.rate)} deliveries/s (${f1(d.seconds)} s; ${d.dup} duplicates)\n` +
          `    CPU per delivery: BYO ${d.cpuMsPer.toFixed(2)} ms, PostgreSQL (${d.backends} backends) ${d.pgMsPer.toFixed(2)} ms, receiver ${d.receiverMsPer.toFixed(2)} ms` +
          ` -> ${f1(1000 / (d.cpuMsPer + d.pgMsPer + d.receiverMsPer))} deliveries per CPU-second`,
      ),
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const s of servers) await stopServer(s).catch(() => {});
    await db.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await db.end();
    await receiver.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
