// What the dashboard's counter trigger (decision 0028, migration 20261208_0420) costs a key
// write: single-row inserts and status updates of provider_keys, each its own transaction as a
// connect or a revoke is, with the trigger off then on, twice. PostgreSQL only.
//
//   server/node_modules/.bin/tsx bench/dashboard-triggers.ts
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_N=5000 server/node_modules/.bin/tsx bench/dashboard-triggers.ts
import { loadavg } from 'node:os';
import { Kysely, PostgresDialect } from '../server/node_modules/kysely/dist/esm/index.js';
import pg from '../server/node_modules/pg/lib/index.js';
import { migrateToLatest } from '../server/src/db/migrate.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_N ?? 2000);
const schema = `bench_tc_${Date.now()}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`create schema ${schema}`);
const options = `-c search_path=${schema}`;
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, options }) }) });
const c = new pg.Client({ connectionString: url, options });
try {
  await migrateToLatest(db, schema);
  await c.connect();
  await c.query(`insert into projects (id, name) values ('p1', 'bench')`);
  const run = async (label: string, offset: number) => {
    let t = performance.now();
    for (let i = 0; i < N; i++)
      await c.query(
        `insert into provider_keys (id, project_id, mode, provider, ref_id, status) values ($1, 'p1', 'test', 'openai', $2, 'active')`,
        [`k${offset + i}`, `r${offset + i}`],
      );
    const insert = (performance.now() - t) / N;
    t = performance.now();
    for (let i = 0; i < N; i++) await c.query(`update provider_keys set status = 'revoked' where id = $1`, [`k${offset + i}`]);
    const update = (performance.now() - t) / N;
    console.log(`| ${label} | ${insert.toFixed(3)} | ${update.toFixed(3)} |`);
  };
  console.log(`${N} writes each, load average ${loadavg()[0].toFixed(1)}\n`);
  console.log('| trigger | insert ms | status update ms |\n|---|---|---|');
  for (let round = 0; round < 2; round++) {
    await c.query('alter table provider_keys disable trigger provider_keys_counts');
    await run('off', round * 4 * N);
    await c.query('alter table provider_keys enable trigger provider_keys_counts');
    await run('on', round * 4 * N + 2 * N);
  }
} finally {
  await c.end().catch(() => {});
  await db.destroy();
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}
