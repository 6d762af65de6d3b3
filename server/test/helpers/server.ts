import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { leakCapture } from './leak-capture.js';
import { useInMemoryImage } from './pglite-image.js';

/** Every log line every test server wrote, for the leak scan. */
export const capturedLogs: string[] = [];

export interface TestServer extends RunningServer {
  logs: string[];
  adminToken: string;
  /** Creates a project and returns its keys. */
  createProject(settings?: Record<string, unknown>): Promise<TestProject>;
  request(method: string, path: string, opts?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<TestResponse>;
}

export interface TestProject {
  id: string;
  pkTest: string;
  skTest: string;
  pkLive: string;
  skLive: string;
  keys: { id: string; kind: string; mode: string; key: string }[];
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** Servers of this process per PostgreSQL schema; a schema the helper made is dropped with its last server. */
const schemaUsers = new Map<string, number>();

/**
 * Drops a PostgreSQL schema and everything in it, if it exists. Under the suite's global setup
 * the drop waits for the end of the run (pg-schemas.global.ts): a schema dropped while another
 * file's server migrates broke that migration (kysely's introspection reads every schema's
 * tables), so files can share the database two at a time only if no schema goes mid-run.
 */
export async function dropSchema(schema: string): Promise<void> {
  const later = process.env.BYO_TEST_SCHEMAS_FILE;
  if (later) {
    appendFileSync(later, `${schema}\n`);
    return;
  }
  await dropSchemaNow(schema);
}

export async function dropSchemaNow(schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/**
 * Starts a real server on an ephemeral port: PGlite in memory by default, or, when
 * DATABASE_URL is set, PostgreSQL in a fresh schema of its own.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const adminToken = env.BYO_ADMIN_TOKEN ?? `admin_${randomBytes(24).toString('hex')}`;
  const schema = env.BYO_DATABASE_SCHEMA ?? (usingPostgres ? `t_${randomBytes(6).toString('hex')}` : undefined);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    BYO_EMBEDDED_STORAGE: 'memory',
    BYO_ADMIN_TOKEN: adminToken,
    BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'info',
    BYO_SEED_DEV_PROJECT: 'false',
    BYO_WEBHOOK_SCHEDULE: '0,100ms,200ms,400ms',
    // Retries 100-400 ms apart need a poll to match (the server's default is 1 s).
    BYO_WEBHOOK_POLL_INTERVAL: '200ms',
    // Scheduled key checks would send probes and model listings to a test's mock upstream in the
    // background (a connected key is checked at once); the key-health tests turn them on.
    BYO_KEY_HEALTH_INTERVAL: '0',
    DATABASE_URL: process.env.DATABASE_URL,
    ...(schema ? { BYO_DATABASE_SCHEMA: schema } : {}),
    ...env,
  });
  const logs: string[] = [];
  const capture = leakCapture(); // the leak scan's capture, when the suite runs under it
  const dest = new Writable({
    write(chunk, _enc, cb) {
      const line = chunk.toString();
      logs.push(line);
      capturedLogs.push(line);
      capture?.log(line);
      cb();
    },
  });
  const logger = createLogger({ level: config.LOG_LEVEL, destination: dest });
  if (!config.DATABASE_URL && config.BYO_EMBEDDED_STORAGE === 'memory') await useInMemoryImage();
  const running = await startServer(config, logger);
  capture?.attach(running, config);
  const ownSchema = usingPostgres && schema !== undefined && env.BYO_DATABASE_SCHEMA === undefined;
  if (schema) schemaUsers.set(schema, (schemaUsers.get(schema) ?? 0) + 1);
  const request: TestServer['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${running.url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    ...running,
    async close() {
      await running.close();
      if (!schema) return;
      const left = (schemaUsers.get(schema) ?? 1) - 1;
      schemaUsers.set(schema, left);
      if (left === 0) await capture?.dump(schema);
      if (left === 0 && ownSchema) await dropSchema(schema);
    },
    logs,
    adminToken,
    request,
    async createProject(settings = {}) {
      const res = await request('POST', '/v1/admin/projects', { key: adminToken, body: { name: 'Test', ...settings } });
      if (res.status !== 200) throw new Error(`createProject failed: ${res.status} ${res.text}`);
      const keys = res.body.keys as TestProject['keys'];
      const find = (kind: string, mode: string) => keys.find((k) => k.kind === kind && k.mode === mode)?.key as string;
      return {
        id: res.body.project.id,
        pkTest: find('pk', 'test'),
        skTest: find('sk', 'test'),
        pkLive: find('pk', 'live'),
        skLive: find('sk', 'live'),
        keys,
      };
    },
  };
}
