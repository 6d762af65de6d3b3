import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliSandbox, collect } from './helpers.js';

/** `byo server start` and `byo server migrate` run the installed byo-server (its built dist). */

const dataDir = mkdtempSync(join(tmpdir(), 'byo-server-cmd-'));
const cli = new CliSandbox({
  BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
  BYO_SEED_DEV_PROJECT: 'false',
  LOG_LEVEL: 'warn',
  BYO_WEBHOOKS: 'false',
});
afterAll(() => {
  cli.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('byo server', () => {
  it('migrate applies the migrations to the embedded database, then finds it up to date', async () => {
    const first = await cli.run(['server', 'migrate', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied: /);
    const again = await cli.run(['server', 'migrate', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('database is up to date\n');
  }, 300_000);

  it('start serves on the given port and stops gracefully on Ctrl-C (exit 0)', async () => {
    const child = cli.spawn(['server', 'start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir]);
    const done = collect(child, { timeoutMs: 120_000 });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 110_000);
      child.stderr?.on('data', (d: Buffer | string) => {
        stderr += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);
});
