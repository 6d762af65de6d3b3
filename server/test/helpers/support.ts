import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { request } from 'undici';
import { expect } from 'vitest';
import { capturedLogs, type TestServer } from './server.js';

/**
 * Shared by the server-level tests: unique canary provider keys, a text dump of every table
 * of a test server's database, and the leak scan run after each file.
 */

/** A provider key no other test uses: `sk-canary-<label>-<random>` (valid input: printable, no spaces). */
export function canaryKey(label = 'k'): string {
  return `sk-canary-${label}-${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** Every row of every table in the server's schema, as text (bytea renders as `\x` hex). */
export async function dumpDatabase(server: TestServer): Promise<string> {
  const db = server.app.services.db;
  const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = current_schema()`.execute(db);
  expect(tables.rows.length).toBeGreaterThan(5);
  const out: string[] = [];
  for (const { tablename } of tables.rows) {
    const rows = await sql<{ r: string }>`select t::text as r from ${sql.table(tablename)} t`.execute(db);
    for (const { r } of rows.rows) out.push(`${tablename}: ${r}`);
  }
  return out.join('\n');
}

/** The dump plus every `\x…` hex run decoded to bytes, so a secret stored raw in a bytea is found too. */
function withDecodedHex(text: string): string {
  const decoded = [...text.matchAll(/\\\\?x([0-9a-f]{16,})/g)].map((m) => Buffer.from(m[1] as string, 'hex').toString('latin1'));
  return [text, ...decoded].join('\n');
}

/** The forms a secret could take when it leaks: raw, hex, URL-encoded, and base64 at each alignment. */
export function leakNeedles(secret: string, window = 12): string[] {
  const needles = new Set<string>();
  for (let i = 0; i + window <= secret.length; i++) needles.add(secret.slice(i, i + window));
  needles.add(Buffer.from(secret).toString('hex'));
  needles.add(encodeURIComponent(secret));
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.from(secret.slice(shift)).toString('base64');
    // Drop the last (padding-dependent) quartet; the rest appears whatever surrounds the secret.
    const core = b64.slice(0, Math.max(0, b64.length - 4));
    if (core.length >= 12) {
      needles.add(core);
      needles.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...needles];
}

export function findLeaks(haystack: string, secrets: string[]): string[] {
  const hits: string[] = [];
  for (const s of secrets) for (const n of leakNeedles(s)) if (haystack.includes(n)) hits.push(`${s.slice(0, 12)}… as "${n}"`);
  return hits;
}

/** Fails if any of `secrets` appears in the server's database or in any captured log line. */
export async function expectNoLeaks(server: TestServer, secrets: string[]): Promise<void> {
  expect(secrets.length).toBeGreaterThan(0);
  const dump = withDecodedHex(await dumpDatabase(server));
  expect(findLeaks(dump, secrets), 'a secret appears in the database').toEqual([]);
  const logs = capturedLogs.join('');
  expect(logs.length).toBeGreaterThan(0);
  expect(findLeaks(logs, secrets), 'a secret appears in the logs').toEqual([]);
}

/** Polls until `fn` returns true (for expiries measured in wall-clock seconds). */
export async function waitFor(fn: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error('condition not met in time');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 401 body minus the request id, which differs on every response. */
export function withoutRequestId(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const { requestId: _r, ...rest } = body as Record<string, unknown>;
  return rest;
}

/** Substrings of `key` past its `byo_xx_mode_` prefix, of length `n`. */
export function keyWindows(key: string, n = 6): string[] {
  const body = key.replace(/^byo_(pk|sk)_(live|test)_/, '');
  const out: string[] = [];
  for (let i = 0; i + n <= body.length; i++) out.push(body.slice(i, i + n));
  return out;
}

export interface MockProvider {
  /** e.g. http://127.0.0.1:1234 — use `${url}/v1` as BYO_OPENAI_BASE_URL. */
  url: string;
  /** Keys the mock accepts; any other key gets 401 with the key echoed, as OpenAI does. */
  validKeys: Set<string>;
  /** Every request: method, path and the provider key it carried. */
  requests: { method: string; path: string; key: string | undefined }[];
  /** Milliseconds to wait before answering (slow provider). */
  delayMs: number;
  /** When set, every request gets this status (e.g. 500, 429: the provider cannot check). */
  failWith: number | null;
  close(): Promise<void>;
}

/**
 * A local stand-in for the providers' model-list endpoints (OpenAI `GET /v1/models`,
 * Anthropic `GET /v1/models`, Google `GET /v1beta/models`), on 127.0.0.1 only.
 */
export async function startMockProvider(): Promise<MockProvider> {
  const { createServer } = await import('node:http');
  const mock: MockProvider = {
    url: '',
    validKeys: new Set(),
    requests: [],
    delayMs: 0,
    failWith: null,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const auth = req.headers.authorization?.replace(/^Bearer /, '');
    const key = auth ?? (req.headers['x-api-key'] as string | undefined) ?? (req.headers['x-goog-api-key'] as string | undefined);
    mock.requests.push({ method: req.method ?? '', path: req.url ?? '', key });
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      if (mock.failWith) {
        res.statusCode = mock.failWith;
        res.end(JSON.stringify({ error: { message: 'unavailable' } }));
      } else if (key && mock.validKeys.has(key)) {
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-mock', object: 'model' }] }));
      } else {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}`, type: 'invalid_request_error' } }));
      }
    }, mock.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  mock.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  mock.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return mock;
}

/** Env for a test server whose providers are all played by `mock`. */
export function mockProviderEnv(mock: MockProvider): Record<string, string> {
  return {
    BYO_OPENAI_BASE_URL: `${mock.url}/v1`,
    BYO_ANTHROPIC_BASE_URL: mock.url,
    BYO_GOOGLE_BASE_URL: mock.url,
  };
}

/** Copies a project and its API keys into another server's database (two instances, one tenant). */
export async function copyProject(from: TestServer, to: TestServer, projectId: string): Promise<void> {
  const src = from.app.services.db;
  const dst = to.app.services.db;
  const project = await src.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirstOrThrow();
  const keys = await src.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).execute();
  await dst
    .insertInto('projects')
    .values({
      ...project,
      allowed_origins: JSON.stringify(project.allowed_origins),
      allowed_base_url_hosts: JSON.stringify(project.allowed_base_url_hosts),
    })
    .execute();
  await dst.insertInto('api_keys').values(keys).execute();
}

const SERVER_DIR = resolve(import.meta.dirname, '../..');

/** `byo-server` started as a process, with what it printed so far. */
export interface ServerProcess {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

/**
 * Starts `byo-server` from source (through tsx, so no build is needed) with exactly this
 * environment (plus PATH/HOME and NODE_ENV=production), nothing inherited.
 */
export function startServerProcess(env: Record<string, string>, args: string[] = []): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(SERVER_DIR, 'src/main.ts'), ...args], {
    cwd: SERVER_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: ServerProcess = { child, stdout: '', stderr: '', exit: new Promise((r) => child.on('exit', (code) => r(code))) };
  child.stdout?.on('data', (d) => {
    p.stdout += d;
  });
  child.stderr?.on('data', (d) => {
    p.stderr += d;
  });
  return p;
}

/**
 * `byo-server` with `BYO_WORKERS=2` on PostgreSQL (DATABASE_URL) as a process, with this
 * environment added; resolves with its address once both workers listen.
 */
/** The worker processes of a primary (Linux: /proc/<pid>/task/<pid>/children). */
export function workerPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kills a primary started by startTwoWorkers and its workers at once (a test may have stalled one). */
export function killTwoWorkers(server: ServerProcess | undefined): void {
  if (!server || server.child.exitCode !== null) return;
  const workers = workerPids(server.child.pid ?? 0);
  server.child.kill('SIGKILL');
  for (const pid of workers) process.kill(pid, 'SIGKILL');
}

export async function startTwoWorkers(env: Record<string, string>): Promise<{ server: ServerProcess; url: string }> {
  const server = startServerProcess({
    LOG_LEVEL: 'info',
    BYO_WORKERS: '2',
    PORT: '0',
    DATABASE_URL: process.env.DATABASE_URL ?? '',
    ...env,
  });
  let url = '';
  try {
    await waitFor(
      () => {
        if (server.child.exitCode !== null) throw new Error(`exited ${server.child.exitCode}: ${server.stderr}`);
        const m = /listening on (http:\/\/\S+) \(PostgreSQL, 2 workers/.exec(server.stderr);
        if (m) url = m[1] as string;
        return Boolean(m);
      },
      120_000,
      100,
    );
  } catch (err) {
    // The caller never gets it to stop: the primary stops its workers on SIGTERM.
    server.child.kill('SIGTERM');
    throw err;
  }
  return { server, url };
}

/** A call on a new connection, so calls spread over the workers (the primary hands connections out in turn). */
export async function callOnNewConnection(
  url: string,
  path: string,
  init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const res = await request(`${url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: {
      connection: 'close',
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
    reset: true,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> };
}
