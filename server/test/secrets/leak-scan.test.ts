import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, usingPostgres } from '../helpers/server.js';
import { LeakIndex, scanDirectory } from '../helpers/leak-scan.js';

/**
 * The leak scan itself: it must find a planted secret in every form and
 * place it searches, and stay quiet on what is allowed (hints, public sandbox keys). The
 * scan over the whole suite runs in the global teardown (leak-scan.global.ts).
 */

const rand = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'Q').slice(0, n);

describe('LeakIndex', () => {
  const key = `sk-proj-${rand(48)}`;
  const index = new LeakIndex();
  index.add({ kind: 'provider_key', value: key });
  index.add({ kind: 'provider_key', value: 'sk-byo-test-valid' });
  index.add({ kind: 'provider_key', value: 'a'.repeat(40) });

  it('finds a secret raw, as a substring, base64, hex and URL-encoded', () => {
    expect(index.scan(`{"msg":"x ${key} y"}`, 'f')).toHaveLength(1);
    expect(index.scan(`…${key.slice(15, 40)}…`, 'f')).toHaveLength(1);
    expect(index.scan(Buffer.from(key).toString('base64'), 'f').map((h) => h.form)).toContain('base64');
    expect(index.scan(`\\x${Buffer.from(key).toString('hex')}`, 'f').map((h) => h.form)).toContain('hex');
    const withSlash = `sk-${rand(10)}/${rand(30)}`;
    const i2 = new LeakIndex();
    i2.add({ kind: 'k', value: withSlash });
    expect(i2.scan(encodeURIComponent(withSlash), 'f').length).toBeGreaterThan(0);
  });

  it('ignores hints, public sandbox keys and low-entropy values', () => {
    expect(index.scan(`keyHint sk-...${key.slice(-4)} and sk-proj-[REDACTED]`, 'f')).toEqual([]);
    expect(index.scan('the sandbox key sk-byo-test-valid in docs', 'f')).toEqual([]);
    expect(index.scan('a'.repeat(100), 'f')).toEqual([]);
  });
});

describe('capture and scan through a real server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'byo-leak-selftest-'));
  const before = process.env.BYO_LEAK_DIR;
  afterAll(() => {
    if (before === undefined) delete process.env.BYO_LEAK_DIR;
    else process.env.BYO_LEAK_DIR = before;
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the secrets a server saw, finds nothing after normal use, and finds planted leaks', async () => {
    process.env.BYO_LEAK_DIR = dir;
    const server = await startTestServer();
    const canary = `canary-${rand(40)}`; // not key-shaped: the scrubber does not know it
    try {
      const p = await server.createProject();
      const r = await server.request('POST', '/v1/keys/connect', {
        key: p.pkTest,
        body: { provider: 'openai', refId: 'c1', providerKey: canary },
      });
      expect(r.status, r.text).toBe(200);
      expect((await server.request('GET', '/v1/keys', { key: p.skTest })).status).toBe(200);
      const secrets = readdirSync(dir)
        .filter((f) => f.startsWith('secrets-'))
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .join('');
      for (const s of [canary, p.skTest, p.pkLive, server.adminToken]) expect(secrets).toContain(s);
      expect(secrets).toContain('master_key');
    } finally {
      await server.close();
    }
    const clean = scanDirectory(dir);
    expect(clean.hits, JSON.stringify(clean.hits)).toEqual([]);
    expect(clean.files.some((f) => f.startsWith('logs-'))).toBe(true);
    if (usingPostgres) expect(clean.files.some((f) => f.startsWith('dump-'))).toBe(true);

    // Plant the canary in a log line and (on PostgreSQL) in the database: both are found.
    const second = await startTestServer();
    try {
      second.app.services.logger.info({ note: `debug ${canary}` }, 'oops');
      await sql`insert into audit_log (actor, action, metadata) values ('test', 'planted', ${JSON.stringify({ v: canary })})`.execute(
        second.app.services.db,
      );
    } finally {
      await second.close();
    }
    const dirty = scanDirectory(dir);
    const where = dirty.hits.map((h) => h.file.split('-')[0]);
    expect(where).toContain('logs');
    if (usingPostgres) expect(where).toContain('dump');
  }, 180_000);
});
