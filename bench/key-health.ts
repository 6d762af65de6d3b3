// Scheduled key checks at scale (docs/key-health.md): BENCH_KEYS active provider keys
// (default 100,000) spread over BENCH_PROVIDERS OpenAI-compatible providers, all pointing at a
// local mock whose `GET /models` answers a small listing; the scheduler runs BENCH_INTERVALS
// intervals of BENCH_INTERVAL. Prints the probes per second per provider (never above what the
// per-provider cap allows), the statements the scheduler sent per probe, and whether every key was
// checked once per interval. BENCH_INSTANCES schedulers (default 2) share the database, as two
// servers would. PostgreSQL only (the claim is the point).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test server/node_modules/.bin/tsx bench/key-health.ts
//   BENCH_KEYS=20000 BENCH_INTERVAL=10s BENCH_INTERVALS=3 BENCH_CONCURRENCY=8 ... bench/key-health.ts
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import pg from '../server/node_modules/pg/lib/index.js';
import { loadConfig, parseDuration } from '../server/src/config.js';
import { KeyHealthScheduler } from '../server/src/key-health/scheduler.js';
import { createLogger } from '../server/src/observability/logger.js';
import { startServer } from '../server/src/server.js';
import { aadFor, PROVIDER_KEY_KIND } from '../server/src/vault/aad.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const INTERVAL = parseDuration(process.env.BENCH_INTERVAL ?? '60s');
const INTERVALS = Number(process.env.BENCH_INTERVALS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const PROVIDERS = ['openai', 'groq', 'mistral', 'xai', 'deepseek'].slice(0, Number(process.env.BENCH_PROVIDERS ?? 5));
const ENV_OF: Record<string, string> = {
  openai: 'BYO_OPENAI_BASE_URL',
  groq: 'BYO_GROQ_BASE_URL',
  mistral: 'BYO_MISTRAL_BASE_URL',
  xai: 'BYO_XAI_BASE_URL',
  deepseek: 'BYO_DEEPSEEK_BASE_URL',
};

// The mock provider: one listing for every key; records when each key was probed, and by whom.
const probes = new Map<string, number[]>();
const perProvider = new Map<string, number[]>();
const listing = JSON.stringify({ object: 'list', data: [{ id: 'model-a' }, { id: 'model-b' }] });
const mock = createServer((req, res) => {
  const key = String(req.headers.authorization).slice(7);
  const at = Date.now();
  const times = probes.get(key);
  if (times) times.push(at);
  else probes.set(key, [at]);
  const provider = (req.url ?? '').split('/')[1] as string;
  const p = perProvider.get(provider);
  if (p) p.push(at);
  else perProvider.set(provider, [at]);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(listing) });
  res.end(listing);
});
await new Promise<void>((r) => mock.listen(0, '127.0.0.1', r));
const mockUrl = `http://127.0.0.1:${(mock.address() as AddressInfo).port}`;

const schema = `bench_kh_${Date.now()}`;
const config = loadConfig({
  PORT: '0',
  DATABASE_URL: url,
  BYO_DATABASE_SCHEMA: schema,
  BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
  BYO_SEED_DEV_PROJECT: 'false',
  BYO_WEBHOOKS: 'false',
  BYO_KEY_HEALTH_INTERVAL: '0', // the bench runs its own schedulers, to read their counters
  LOG_LEVEL: 'warn',
  ...Object.fromEntries(PROVIDERS.map((p) => [ENV_OF[p], `${mockUrl}/${p}`])),
});
const server = await startServer(config, createLogger({ level: 'warn' }));
const { services } = server.app;
const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
await admin.connect();

try {
  // Seed: one project, KEYS keys sealed as connect seals them, written 1,000 per statement, none scheduled yet.
  await admin.query(`insert into projects (id, name) values ('p_bench', 'bench')`);
  const t = performance.now();
  for (let i = 0; i < KEYS; i += 1000) {
    const rows: unknown[] = [];
    const values: string[] = [];
    for (let j = i; j < Math.min(KEYS, i + 1000); j++) {
      const provider = PROVIDERS[j % PROVIDERS.length] as string;
      const row = { id: `key_${j}`, project_id: 'p_bench', mode: 'live', provider, ref_id: `ref_${j}` };
      const sealed = services.vault.seal(PROVIDER_KEY_KIND, aadFor(row), `sk-bench-${String(j).padStart(12, '0')}`);
      const n = rows.length;
      values.push(
        `($${n + 1}, 'p_bench', 'live', $${n + 2}, $${n + 3}, 'active', 'sk-...', $${n + 4}, $${n + 5}, $${n + 6}, now() - interval '1 day')`,
      );
      rows.push(row.id, provider, row.ref_id, sealed.ciphertext, sealed.wrappedKey, sealed.masterKeyId);
    }
    await admin.query(
      `insert into provider_keys (id, project_id, mode, provider, ref_id, status, key_hint, ciphertext, wrapped_key, master_key_id, updated_at) values ${values.join(',')}`,
      rows,
    );
  }
  console.log(`seeded ${KEYS} keys over ${PROVIDERS.length} providers in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const outcomes = new Map<string, number>();
  // Run: INSTANCES schedulers on the shared schema (two servers' worth), INTERVALS intervals.
  const schedulers = Array.from(
    { length: INSTANCES },
    () =>
      new KeyHealthScheduler(services, {
        intervalMs: INTERVAL,
        disableAfter: 2,
        concurrency: CONCURRENCY,
        onCheck: (_p, outcome) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1),
      }),
  );
  const started = Date.now();
  for (const s of schedulers) s.start();
  await new Promise((r) => setTimeout(r, INTERVAL * INTERVALS));
  await Promise.all(schedulers.map((s) => s.stop()));
  const ended = Date.now();
  const seconds = (ended - started) / 1000;

  const checks = schedulers.reduce((n, s) => n + s.stats.checks, 0);
  const statements = schedulers.reduce((n, s) => n + s.stats.statements, 0);
  console.log(
    `\n${INSTANCES} schedulers, interval ${INTERVAL / 1000} s × ${INTERVALS}, cap ${CONCURRENCY} per provider per scheduler, load average ${loadavg()[0].toFixed(1)}`,
  );
  console.log(`${checks} checks written in ${seconds.toFixed(1)} s; ${(statements / Math.max(1, checks)).toFixed(2)} statements per check`);
  // unreachable: the probe timed out or failed (an overloaded machine: the mock shares this process).
  console.log(`outcomes: ${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ')}`);
  console.log(
    '\n| provider | probes | mean probes/s | busiest second | most in flight, per scheduler | cap per scheduler |\n|---|---|---|---|---|---|',
  );
  for (const p of PROVIDERS) {
    const times = perProvider.get(p) ?? [];
    const bySecond = new Map<number, number>();
    for (const x of times) bySecond.set(Math.floor(x / 1000), (bySecond.get(Math.floor(x / 1000)) ?? 0) + 1);
    const busiest = Math.max(0, ...bySecond.values());
    const most = Math.max(...schedulers.map((s) => s.stats.maxInFlight.get(p as never) ?? 0));
    console.log(`| ${p} | ${times.length} | ${(times.length / seconds).toFixed(0)} | ${busiest} | ${most} | ${CONCURRENCY} |`);
  }

  // Once per interval: no key checked twice within 90 % of an interval (the jitter's floor), and
  // in each whole interval after the first (keys are first placed at random within it), every key
  // was checked.
  let tooSoon = 0;
  let minGap = Number.POSITIVE_INFINITY;
  for (const times of probes.values())
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] as number) - (times[i - 1] as number);
      minGap = Math.min(minGap, gap);
      if (gap < INTERVAL * 0.9 - 50) tooSoon++;
    }
  console.log(`\nkeys probed at least once: ${probes.size} of ${KEYS}`);
  console.log(
    `shortest gap between two checks of one key: ${(minGap / 1000).toFixed(2)} s (interval ${INTERVAL / 1000} s); gaps under 90 %: ${tooSoon}`,
  );
  for (let k = 1; k < INTERVALS; k++) {
    const from = started + k * INTERVAL;
    const to = from + INTERVAL;
    let missed = 0;
    let twice = 0;
    for (let j = 0; j < KEYS; j++) {
      const times = probes.get(`sk-bench-${String(j).padStart(12, '0')}`) ?? [];
      const n = times.filter((x) => x >= from && x < to).length;
      if (n === 0) missed++;
      if (n > 1) twice++;
    }
    console.log(`interval ${k + 1}: keys not checked ${missed}, checked twice ${twice} (of ${KEYS})`);
  }
} finally {
  await admin.end().catch(() => {});
  await server.close();
  mock.close();
  const drop = new pg.Client({ connectionString: url });
  await drop.connect();
  await drop.query(`drop schema if exists ${schema} cascade`);
  await drop.end();
}
