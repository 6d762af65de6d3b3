#!/usr/bin/env node
// The operator dashboard at scale: seeds one project on PostgreSQL with 100,000
// customers (120,000 stored keys), 1,000,000 usage rows over 30 days, 50,000 webhook deliveries
// and 20,000 audit entries, then makes exactly the calls each screen's first render makes
// (through /trpc with a dashboard session cookie, as the page does) and prints, per screen,
// how many requests it needs and their latency (median and p95 of DASH_RUNS renders).
//
//   node bench/dashboard.mjs
//   DASH_CUSTOMERS=100000 DASH_USAGE=1000000 DASH_RUNS=20 node bench/dashboard.mjs
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/dashboard.mjs
//
// BYO runs from source through tsx as a child process (LOG_LEVEL=warn) in a fresh schema of
// DATABASE_URL, dropped when the script exits. The target is every request under 200 ms.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byoBenchEnv } from './lib/byo.mjs';
import { printedUrl, startChild } from './lib/child.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(join(root, 'server/package.json'));
const pg = require('pg');

const CUSTOMERS = Number(process.env.DASH_CUSTOMERS ?? 100_000);
const USAGE = Number(process.env.DASH_USAGE ?? 1_000_000);
const RUNS = Number(process.env.DASH_RUNS ?? 20);
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const DATABASE_URL = process.env.DATABASE_URL;

/** BYO from source (tsx), in a fresh schema of DATABASE_URL that byoBenchEnv drops at exit. */
async function startByo() {
  const { admin, env } = byoBenchEnv('http://127.0.0.1:9/v1');
  // The dispatcher would try to deliver the seeded pending rows, and the key-health checks would
  // ask providers about the seeded keys: the screens only read them.
  Object.assign(env, { NODE_ENV: 'production', BYO_WEBHOOKS: 'false', BYO_KEY_HEALTH_INTERVAL: '0' });
  delete env.BYO_EMBEDDED_STORAGE;
  process.chdir(join(root, 'server'));
  const byo = await startChild(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], env, printedUrl);
  return { base: byo.url, admin, schema: env.BYO_DATABASE_SCHEMA, stop: () => byo.child.kill('SIGTERM') };
}

async function seed(db, schema, projectId) {
  const t0 = Date.now();
  // Customers: cust_000001 ... each with an openai key; every fifth also anthropic. 3% disabled, 2% revoked.
  // One bulk statement would update the counters' 8 rows 120,000 times in one transaction (its
  // row trigger is for one connect per transaction): the trigger is off for the seed and the
  // counters are rebuilt as the migration backfills them.
  await db.query(`set search_path to "${schema}"`);
  await db.query('alter table provider_keys disable trigger provider_keys_counts');
  await db.query(
    `insert into provider_keys (id, project_id, mode, provider, ref_id, status, key_hint, created_at, updated_at, last_validated_at, last_validation_result)
     select 'pk_' || p.provider || '_' || g, $1, 'test', p.provider, 'cust_' || lpad(g::text, 6, '0'),
            case when g % 50 = 0 then 'revoked' when g % 33 = 0 then 'disabled' else 'active' end,
            'sk-...' || lpad((g % 10000)::text, 4, '0'),
            now() - (g % 90) * interval '1 day', now() - (g % 30) * interval '1 day',
            now() - (g % 7) * interval '1 day', 'valid'
       from generate_series(1, $2::int) g
       cross join (values ('openai'), ('anthropic')) p(provider)
      where p.provider = 'openai' or g % 5 = 0`,
    [projectId, CUSTOMERS],
  );
  await db.query('alter table provider_keys enable trigger provider_keys_counts');
  await db.query('truncate customer_keys, provider_key_counts');
  await db.query(
    `insert into customer_keys (project_id, mode, ref_id, active)
     select project_id, mode, ref_id, count(*) filter (where status = 'active') from provider_keys group by 1, 2, 3`,
  );
  await db.query(
    `insert into provider_key_counts (project_id, mode, shard, active, disabled, revoked, customers)
     select project_id, mode, abs(hashtext(ref_id)) % 8, count(*) filter (where status = 'active'),
            count(*) filter (where status = 'disabled'), count(*) filter (where status = 'revoked'), 0
       from provider_keys group by 1, 2, 3`,
  );
  await db.query(
    `update provider_key_counts p set customers = c.n
       from (select project_id, mode, abs(hashtext(ref_id)) % 8 as shard, count(*) as n from customer_keys where active > 0 group by 1, 2, 3) c
      where p.project_id = c.project_id and p.mode = c.mode and p.shard = c.shard`,
  );
  // Usage: per-minute roll-up rows (ADR 0020) spread over the last 30 days; the trigger on usage_records rolls each statement up.
  const models = `(array['gpt-4o-mini','gpt-4o','claude-sonnet-4','claude-haiku-4'])`;
  for (let done = 0; done < USAGE; done += 250_000) {
    const n = Math.min(250_000, USAGE - done);
    await db.query(
      `insert into usage_records (project_id, mode, ref_id, provider, model, status, latency_ms, input_tokens, output_tokens, total_tokens, requests, created_at)
       select $1, 'test', 'cust_' || lpad((1 + floor(random() * $2))::int::text, 6, '0'),
              case when r < 0.6 then 'openai' else 'anthropic' end,
              ${models}[case when r < 0.3 then 1 when r < 0.6 then 2 when r < 0.9 then 3 else 4 end],
              case when random() < 0.02 then 429 else 200 end,
              (200 + random() * 2000)::int, (random() * 2000)::int, (random() * 800)::int, (random() * 2800)::int,
              1 + (random() * 4)::int,
              now() - random() * interval '30 days'
         from (select random() as r from generate_series(1, $3::int)) s`,
      [projectId, CUSTOMERS, n],
    );
  }
  const endpoints = [];
  for (let i = 0; i < 3; i++) {
    const id = `we_bench${i}`;
    endpoints.push(id);
    await db.query(
      `insert into webhook_endpoints (id, project_id, mode, url, events, enabled, secret_ciphertext, secret_wrapped_key, secret_master_key_id, failing_since)
       values ($1, $2, 'test', $3, '["*"]', true, '\\x00', '\\x00', 'k1', $4)`,
      [id, projectId, `https://hooks.example.com/${i}`, i === 2 ? new Date() : null],
    );
  }
  await db.query(
    `insert into webhook_deliveries (id, event_id, endpoint_id, project_id, mode, event_type, status, attempts, last_status_code, last_latency_ms, created_at, updated_at, delivered_at)
     select 'wd_bench' || g, 'evt_bench' || g, (array['we_bench0','we_bench1','we_bench2'])[1 + g % 3], $1, 'test', 'key.connected',
            case when g % 3 = 2 then 'failed' else 'succeeded' end, 1 + g % 3, case when g % 3 = 2 then 500 else 200 end, 40 + g % 200,
            now() - (g % 43200) * interval '1 minute', now() - (g % 43200) * interval '1 minute', now() - (g % 43200) * interval '1 minute'
       from generate_series(1, 50000) g`,
    [projectId],
  );
  await db.query(
    `insert into audit_log (project_id, mode, actor, action, target, created_at)
     select $1, 'test', 'admin', (array['key.connected','key.revoked','webhook_endpoint.tested'])[1 + g % 3], 'cust_' || g, now() - g * interval '1 minute'
       from generate_series(1, 20000) g`,
    [projectId],
  );
  await db.query('analyze');
  return (Date.now() - t0) / 1000;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main() {
  const byo = await startByo();
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const created = await fetch(`${byo.base}/v1/admin/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${byo.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench' }),
    }).then((r) => r.json());
    const projectId = created.project.id;
    const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'test').key;
    console.log(`seeding ${CUSTOMERS.toLocaleString()} customers, ${USAGE.toLocaleString()} usage rows ...`);
    const seconds = await seed(db, byo.schema, projectId);
    console.log(`seeded in ${seconds.toFixed(1)} s`);

    const session = async (secret) => {
      const res = await fetch(`${byo.base}/trpc/dashboard.signIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: new URL(byo.base).origin },
        body: JSON.stringify({ secret }),
      });
      if (!res.ok) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
      return res.headers.get('set-cookie').split(';')[0];
    };
    const skCookie = await session(sk);
    const adminCookie = await session(byo.admin);
    const adminHeaders = { cookie: adminCookie, 'x-byo-project': projectId, 'x-byo-mode': 'test' };
    const call = async (headers, path, input) => {
      const url = `${byo.base}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`;
      const t = performance.now();
      const res = await fetch(url, { headers });
      const body = await res.text();
      const ms = performance.now() - t;
      if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 300)}`);
      return ms;
    };
    const sk_ = { cookie: skCookie };
    // Exactly the calls each screen's first render makes (server/dashboard/src/screens/*).
    const screens = [
      ['Shell (session)', [[sk_, 'dashboard.session', {}]]],
      ['Overview', [[sk_, 'dashboard.overview', {}]]],
      [
        'Customers',
        [
          [sk_, 'customers.list', { limit: 50 }],
          [sk_, 'limits.defaultGet', {}],
        ],
      ],
      ['Customers, page 21', [[sk_, 'customers.list', { limit: 50, cursor: 'CURSOR' }]]],
      ['Customers, searched', [[sk_, 'customers.list', { limit: 50, prefix: 'cust_0500' }]]],
      [
        'Customer page',
        [
          [sk_, 'keys.list', { refId: 'cust_050000', limit: 100 }],
          [sk_, 'limits.customerGet', { refId: 'cust_050000' }],
          [sk_, 'usage.get', { refId: 'cust_050000', limit: 1000 }],
        ],
      ],
      [
        'Webhooks',
        [
          [sk_, 'webhooks.endpoints.list', { limit: 100 }],
          [sk_, 'webhooks.deliveries.list', { limit: 50 }],
        ],
      ],
      ['Webhooks, failed only', [[sk_, 'webhooks.deliveries.list', { limit: 50, status: 'failed' }]]],
      ['API keys (admin)', [[adminHeaders, 'apiKeys.list', { projectId }]]],
      ['Audit log (admin)', [[adminHeaders, 'audit.list', { limit: 200, projectId }]]],
      ['Master keys (admin)', [[adminHeaders, 'secrets.status', {}]]],
    ];
    // A cursor deep into the customers table: follow 20 pages, then reuse the last cursor.
    let cursor;
    for (let i = 0; i < 20; i++) {
      const url = `${byo.base}/trpc/customers.list?input=${encodeURIComponent(JSON.stringify({ limit: 50, ...(cursor ? { cursor } : {}) }))}`;
      cursor = (await fetch(url, { headers: sk_ }).then((r) => r.json())).result.data.nextCursor;
    }
    const rows = [];
    for (const [name, calls] of screens) {
      const times = calls.map(() => []);
      for (let run = 0; run < RUNS + 2; run++) {
        for (const [i, [headers, path, input]] of calls.entries()) {
          const ms = await call(headers, path, input?.cursor === 'CURSOR' ? { ...input, cursor } : input);
          if (run >= 2) times[i].push(ms); // two warm-up renders
        }
      }
      for (const [i, [, path]] of calls.entries())
        rows.push({ screen: name, requests: calls.length, call: path, median: percentile(times[i], 50), p95: percentile(times[i], 95) });
    }
    console.log(
      `\n${CUSTOMERS.toLocaleString()} customers, ${USAGE.toLocaleString()} usage rows, PostgreSQL; ${RUNS} renders per screen\n`,
    );
    console.log('| screen | requests | call | median ms | p95 ms |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.screen} | ${r.requests} | ${r.call} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} |`);
    const worst = Math.max(...rows.map((r) => r.p95));
    console.log(`\nslowest p95: ${worst.toFixed(1)} ms (target < 200 ms): ${worst < 200 ? 'OK' : 'OVER'}`);
  } finally {
    await db.end();
    await byo.stop();
  }
}

await main();
