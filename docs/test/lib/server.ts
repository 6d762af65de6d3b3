import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const SERVER_MAIN = join(REPO, 'server/dist/main.js');

export interface DocsServer {
  url: string;
  adminToken: string;
  /** The keys `pnpm start` printed on first start (embedded mode), or a project made for the run. */
  devKeys: { publishableKey: string; secretKey: string };
  /** What the server printed on stderr (its banner and logs). */
  output: () => string;
  /** The dev-keys file, in embedded mode. */
  devKeysFile: string | null;
  stop: () => Promise<void>;
}

export interface ProjectKeys {
  projectId: string;
  publishableKey: string;
  secretKey: string;
}

/**
 * Starts the built server the way `pnpm start` does (`node dist/main.js` in `server/`), on an
 * ephemeral port with a fresh data directory. With DATABASE_URL set it runs on PostgreSQL in a
 * schema of its own (no dev project is printed there, so one is created through the admin API).
 */
export async function startDocsServer(extraEnv: Record<string, string> = {}): Promise<DocsServer> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run "pnpm build" first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'byo-docs-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(BYO_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|LOG_LEVEL$)/.test(k)) continue;
    env[k] = v;
  }
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', BYO_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, extraEnv);
  const postgres = process.env.DATABASE_URL;
  if (postgres) {
    Object.assign(env, {
      DATABASE_URL: postgres,
      BYO_DATABASE_SCHEMA: `docs_${randomBytes(6).toString('hex')}`,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
    });
  }
  const child = spawn(process.execPath, [SERVER_MAIN, 'start'], { cwd: join(REPO, 'server'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await waitFor(
      child,
      () => /BYO server listening on (http:\/\/\S+)/.exec(out)?.[1],
      () => out,
      240_000,
    );
    let adminToken: string;
    let devKeys: DocsServer['devKeys'];
    let devKeysFile: string | null = null;
    if (postgres) {
      adminToken = env.BYO_ADMIN_TOKEN as string;
      const p = await createProject({ url, adminToken } as DocsServer, 'Development');
      devKeys = { publishableKey: p.publishableKey, secretKey: p.secretKey };
    } else {
      // What the banner printed is what the docs tell the reader to copy.
      const pk = await waitFor(
        child,
        () => /publishable key:\s+(byo_pk_test_\S+)/.exec(out)?.[1],
        () => out,
        10_000,
      );
      const sk = /secret key:\s+(byo_sk_test_\S+)/.exec(out)?.[1];
      if (!sk) throw new Error(`the server did not print a secret key:\n${out}`);
      devKeys = { publishableKey: pk, secretKey: sk };
      devKeysFile = join(dataDir, 'dev-keys.json');
      if ((statSync(devKeysFile).mode & 0o077) !== 0) throw new Error('dev-keys.json is readable by others');
      // The admin token embedded mode generated, as the CLI and the docs use it.
      adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    }
    return { url, adminToken, devKeys, devKeysFile, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitFor<T>(child: ChildProcess, probe: () => T | undefined, output: () => string, timeoutMs: number): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() - start > timeoutMs) throw new Error(`the server did not start in ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh project (test-mode keys), so every document runs against clean state. */
export async function createProject(server: Pick<DocsServer, 'url' | 'adminToken'>, name: string): Promise<ProjectKeys> {
  const res = await fetch(`${server.url}/v1/admin/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = (await res.json()) as { project: { id: string }; keys: { kind: string; mode: string; key: string }[] };
  if (res.status !== 200) throw new Error(`creating a project failed: ${res.status} ${JSON.stringify(body)}`);
  const find = (kind: string) => body.keys.find((k) => k.kind === kind && k.mode === 'test')?.key as string;
  return { projectId: body.project.id, publishableKey: find('pk'), secretKey: find('sk') };
}
