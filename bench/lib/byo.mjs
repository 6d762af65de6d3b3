// BYO set-up the benchmark scripts share.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';

/**
 * The environment of a BYO server for the proxy benchmarks: its own admin token and master key,
 * OpenAI's base at `openaiBase`, quiet logs, no dev project; on PostgreSQL in a fresh schema
 * (dropped when the script exits) when DATABASE_URL is set, else on PGlite in memory. Servers
 * started with the same environment share the database, so one project and key serve them all.
 */
export function byoBenchEnv(openaiBase) {
  const admin = `bench_admin_${randomBytes(16).toString('hex')}`;
  const db = process.env.DATABASE_URL ?? '';
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  if (db)
    process.on('exit', () => {
      try {
        execFileSync('psql', [db, '-qc', `drop schema if exists "${schema}" cascade`], { stdio: 'ignore' });
      } catch {}
    });
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BYO_EMBEDDED_STORAGE: 'memory',
    BYO_ADMIN_TOKEN: admin,
    BYO_MASTER_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    BYO_OPENAI_BASE_URL: openaiBase,
    BYO_SEED_DEV_PROJECT: 'false',
    DATABASE_URL: db,
    ...(db ? { BYO_DATABASE_SCHEMA: schema } : {}),
  };
  return { admin, env };
}

/**
 * Creates a project through the admin API and connects `providerKey` for OpenAI under refId
 * `bench` with its live secret key; returns that secret key.
 */
export async function connectBenchKey(baseUrl, adminToken, providerKey) {
  const created = await (
    await request(`${baseUrl}/v1/admin/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    })
  ).body.json();
  const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'live').key;
  const conn = await request(`${baseUrl}/v1/keys/connect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'openai', refId: 'bench', providerKey }),
  });
  if (conn.statusCode !== 200) throw new Error(`connect failed: ${await conn.body.text()}`);
  await conn.body.dump();
  return sk;
}
