#!/usr/bin/env node
// The customers read model at 100,000 customers on PostgreSQL: starts BYO
// (server/dist) on a fresh schema, adds CUSTOMERS provider keys (one per refId) and
// USAGE_ROWS usage roll-ups this month and spend limits with their counters (a project
// default, and every 10th customer its own) straight into the database, then times GET
// /v1/customers (first page, a prefix, a page deep in the cursor order) and GET
// /v1/customers/{refId}, each the median of 20 calls.
//
//   pnpm --filter byo-server build
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/customers.mjs
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byoBenchEnv, connectBenchKey } from './lib/byo.mjs';
import { printedUrl, startChild } from './lib/child.mjs';
import { median } from './lib/load.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CUSTOMERS = Number(process.env.CUSTOMERS ?? 100_000);
const USAGE_ROWS = Number(process.env.USAGE_ROWS ?? 500_000);
const db = process.env.DATABASE_URL;
if (!db) throw new Error('set DATABASE_URL (PostgreSQL)');

async function main() {
  const { admin, env } = byoBenchEnv('http://127.0.0.1:9/v1');
  const t = await startChild(process.execPath, [join(here, '../server/dist/main.js')], env, printedUrl);
  const sk = await connectBenchKey(t.url, admin, 'sk-bench-upstream-key-0000000000');
  const schema = env.BYO_DATABASE_SCHEMA;
  const psql = (q) => execFileSync('psql', [db, '-qtAc', `set search_path to "${schema}"; ${q}`], { encoding: 'utf8' });
  const project = psql(`select project_id from provider_keys limit 1`).trim();
  const t0 = performance.now();
  psql(`insert into provider_keys (id, project_id, mode, provider, ref_id, status, key_hint, created_at, updated_at)
        select 'pk_b' || g, '${project}', 'live', 'openai', 'cust_' || lpad(g::text, 6, '0'), 'active', 'sk-...abcd', now(), now()
        from generate_series(1, ${CUSTOMERS}) g`);
  psql(`insert into usage_records (project_id, mode, ref_id, provider, model, status, requests, latency_ms, input_tokens, output_tokens, total_tokens, cost_usd, created_at)
        select '${project}', 'live', 'cust_' || lpad((1 + g % ${CUSTOMERS})::text, 6, '0'), 'openai', 'gpt-4o-mini', 200, 3, 900, 300, 150, 450, 0.0001,
               date_trunc('month', now()) + (g % 600000) * interval '1 second'
        from generate_series(1, ${USAGE_ROWS}) g`);
  // Limits for the limitUse column: a project default (requests per day, cost per month) and,
  // for every 10th customer, its own (tokens per month), each with its counter this window.
  psql(`insert into spend_limits (project_id, mode, ref_id, limits, updated_at) values ('${project}', 'live', '*',
        '[{"metric":"requests","window":"day","max":1000},{"metric":"cost_usd","window":"month","max":50}]', now())`);
  psql(`insert into spend_limits (project_id, mode, ref_id, limits, updated_at)
        select '${project}', 'live', 'cust_' || lpad(g::text, 6, '0'), '[{"metric":"tokens","window":"month","max":1000000}]', now()
        from generate_series(10, ${CUSTOMERS}, 10) g`);
  psql(`insert into limit_counters (project_id, mode, key, window_start, window_end, used)
        select '${project}', 'live', 'c|cust_' || lpad(g::text, 6, '0') || case when g % 10 = 0 then '|tokens|month|*' else '|cost_usd|month|*' end,
               date_trunc('month', now() at time zone 'UTC') at time zone 'UTC', (date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC', g % 40
        from generate_series(1, ${CUSTOMERS}) g`);
  psql('analyze');
  console.error(`seeded ${CUSTOMERS} customers and ${USAGE_ROWS} usage rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // A fresh pool: the seeding can outlast the server's keep-alive, which closes the connections the global pool holds.
  const agent = new Agent();
  const get = async (path) => {
    const s = performance.now();
    const r = await request(`${t.url}${path}`, { headers: { authorization: `Bearer ${sk}` }, dispatcher: agent });
    const body = await r.body.json();
    if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${JSON.stringify(body)}`);
    return { ms: performance.now() - s, body };
  };
  const deep = Buffer.from('r:cust_090000').toString('base64url');
  const cases = [
    ['GET /v1/customers (first page, 50)', '/v1/customers'],
    ['GET /v1/customers?prefix=cust_0420', '/v1/customers?prefix=cust_0420'],
    ['GET /v1/customers (page after cust_090000)', `/v1/customers?cursor=${deep}`],
    ['GET /v1/customers/cust_054321', '/v1/customers/cust_054321'],
  ];
  console.log(`| ${CUSTOMERS.toLocaleString('en')} customers, ${USAGE_ROWS.toLocaleString('en')} usage rows, PostgreSQL | median of 20 |`);
  console.log('|---|---|');
  for (const [name, path] of cases) {
    await get(path);
    const times = [];
    for (let i = 0; i < 20; i++) times.push((await get(path)).ms);
    console.log(`| ${name} | ${median(times).toFixed(1)} ms |`);
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
