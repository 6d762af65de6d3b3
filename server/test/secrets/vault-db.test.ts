import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProviderKey } from '../../src/domain/provider-keys.js';
import { DecryptError } from '../../src/vault/vault.js';
import { dropSchema, startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { canaryKey, expectNoLeaks, type MockProvider, mockProviderEnv, startMockProvider } from '../helpers/support.js';

/**
 * The vault through the database: rows moved or relabelled with raw
 * SQL fail closed, and rows sealed under an older master key still open after a restart
 * with a keyring where that key is no longer the active one.
 */

const oldKey = `old:${randomBytes(32).toString('base64')}`;
const newKey = `new:${randomBytes(32).toString('base64')}`;
const adminToken = `admin_${randomBytes(24).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'byo-vault-'));
const schema = `t_vault_${randomBytes(5).toString('hex')}`;
const canaries: string[] = [];

let mock: MockProvider;
let server: TestServer | undefined;
let project: TestProject;

/** The same database each time: a disk PGlite directory, or one PostgreSQL schema. */
async function start(masterKeys: string): Promise<TestServer> {
  await server?.close();
  server = await startTestServer({
    ...mockProviderEnv(mock),
    BYO_MASTER_KEYS: masterKeys,
    BYO_ADMIN_TOKEN: adminToken,
    ...(usingPostgres ? { BYO_DATABASE_SCHEMA: schema } : { BYO_EMBEDDED_STORAGE: 'disk', BYO_DATA_DIR: dataDir }),
  });
  return server;
}

function key(label: string): string {
  const k = canaryKey(label);
  canaries.push(k);
  mock.validKeys.add(k);
  return k;
}

async function connect(s: TestServer, refId: string, providerKey: string, provider = 'openai') {
  const res = await s.request('POST', '/v1/keys/connect', { key: project.skLive, body: { provider, refId, providerKey } });
  expect(res.status, res.text).toBe(200);
  return res.body as { id: string };
}

async function validate(s: TestServer, refId: string, provider = 'openai') {
  return s.request('POST', '/v1/keys/validate', { key: project.skLive, body: { provider, refId } });
}

async function row(s: TestServer, id: string) {
  return s.app.services.db.selectFrom('provider_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

beforeAll(async () => {
  mock = await startMockProvider();
  const s = await start(oldKey);
  project = await s.createProject();
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
  await mock?.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (usingPostgres) await dropSchema(schema);
}, 180_000);

describe('the vault through the database', () => {
  it('the same provider key stored for two refs gives unrelated rows', async () => {
    const s = server as TestServer;
    const k = key('same');
    const a = await row(s, (await connect(s, 'same_a', k)).id);
    const b = await row(s, (await connect(s, 'same_b', k)).id);
    expect(a.master_key_id).toBe('old');
    // PGlite reads bytea as Uint8Array, pg as Buffer.
    const [ca, cb, wa, wb] = [a.ciphertext, b.ciphertext, a.wrapped_key, b.wrapped_key].map((x) => Buffer.from(x as Uint8Array));
    expect(ca?.equals(cb as Buffer)).toBe(false);
    expect(wa?.equals(wb as Buffer)).toBe(false);
    expect(ca?.subarray(1, 13).equals(cb?.subarray(1, 13) as Buffer)).toBe(false);
    expect(wa?.subarray(1, 13).equals(wb?.subarray(1, 13) as Buffer)).toBe(false);
    const v = await validate(s, 'same_a');
    expect(v.body).toMatchObject({ valid: true, result: 'valid' });
    expect(mock.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models', key: k });
  });

  it('a ciphertext copied into another row fails to decrypt, and nothing reaches the provider', async () => {
    const s = server as TestServer;
    const victim = await connect(s, 'copy_victim', key('victim'));
    const attacker = await connect(s, 'copy_attacker', key('attacker'));
    await sql`update provider_keys set ciphertext = src.ciphertext, wrapped_key = src.wrapped_key, master_key_id = src.master_key_id
      from provider_keys src where src.id = ${victim.id} and provider_keys.id = ${attacker.id}`.execute(s.app.services.db);

    const ref = { projectId: project.id, mode: 'live' as const, provider: 'openai' as const, refId: 'copy_attacker' };
    await expect(loadProviderKey(s.app.services, ref)).rejects.toBeInstanceOf(DecryptError);
    const seen = mock.requests.length;
    const v = await validate(s, 'copy_attacker');
    expect(v.status, v.text).toBe(500);
    expect(v.body.code).toBe('internal_error');
    expect(mock.requests.length).toBe(seen);
    // The victim's own row is untouched.
    expect((await validate(s, 'copy_victim')).body.valid).toBe(true);
  });

  it('swapping the crypto columns of two rows fails both ways', async () => {
    const s = server as TestServer;
    const a = await connect(s, 'swap_a', key('swap'));
    const b = await connect(s, 'swap_b', key('swap'));
    await sql`update provider_keys p set ciphertext = o.ciphertext, wrapped_key = o.wrapped_key
      from provider_keys o where (p.id, o.id) in ((${a.id}, ${b.id}), (${b.id}, ${a.id}))`.execute(s.app.services.db);
    for (const refId of ['swap_a', 'swap_b']) {
      const ref = { projectId: project.id, mode: 'live' as const, provider: 'openai' as const, refId };
      await expect(loadProviderKey(s.app.services, ref)).rejects.toBeInstanceOf(DecryptError);
    }
  });

  it('changing only the provider (or the refId, or the mode) of a row fails to decrypt', async () => {
    const s = server as TestServer;
    const db = s.app.services.db;
    const p = await connect(s, 'relabel_p', key('relabel'));
    await db.updateTable('provider_keys').set({ provider: 'anthropic' }).where('id', '=', p.id).execute();
    await expect(
      loadProviderKey(s.app.services, { projectId: project.id, mode: 'live', provider: 'anthropic', refId: 'relabel_p' }),
    ).rejects.toBeInstanceOf(DecryptError);
    const r = await connect(s, 'relabel_r', key('relabel'));
    await db.updateTable('provider_keys').set({ ref_id: 'relabel_r2' }).where('id', '=', r.id).execute();
    await expect(
      loadProviderKey(s.app.services, { projectId: project.id, mode: 'live', provider: 'openai', refId: 'relabel_r2' }),
    ).rejects.toBeInstanceOf(DecryptError);
    const m = await connect(s, 'relabel_m', key('relabel'));
    await db.updateTable('provider_keys').set({ mode: 'test' }).where('id', '=', m.id).execute();
    await expect(
      loadProviderKey(s.app.services, { projectId: project.id, mode: 'test', provider: 'openai', refId: 'relabel_m' }),
    ).rejects.toBeInstanceOf(DecryptError);
  });

  it('a revoked key keeps no key material', async () => {
    const s = server as TestServer;
    const c = await connect(s, 'revoked_1', key('revoked'));
    const r = await s.request('POST', '/v1/keys/revoke', { key: project.skLive, body: { provider: 'openai', refId: 'revoked_1' } });
    expect(r.status).toBe(200);
    const after = await row(s, c.id);
    expect(after).toMatchObject({ status: 'revoked', ciphertext: null, wrapped_key: null, master_key_id: null });
    expect(after.key_hint).toMatch(/^sk-\.\.\./);
  });
});

describe('master key versions across restarts', () => {
  let oldRow: { id: string };
  let newRow: { id: string };
  const oldSecret = { value: '' };
  const newSecret = { value: '' };

  it('rows written under the old key still decrypt when the new key is active', async () => {
    oldSecret.value = key('under_old');
    oldRow = await connect(server as TestServer, 'rotate_old', oldSecret.value);

    const s = await start(`${newKey},${oldKey}`);
    expect(s.app.services.vault.keyring.active.id).toBe('new');
    expect((await row(s, oldRow.id)).master_key_id).toBe('old');
    const v = await validate(s, 'rotate_old');
    expect(v.body, v.text).toMatchObject({ valid: true });
    expect(mock.requests.at(-1)?.key).toBe(oldSecret.value);

    newSecret.value = key('under_new');
    newRow = await connect(s, 'rotate_new', newSecret.value);
    expect((await row(s, newRow.id)).master_key_id).toBe('new');
    expect((await validate(s, 'rotate_new')).body.valid).toBe(true);
  }, 180_000);

  it('without the old key, its rows fail closed and the new rows still work', async () => {
    const s = await start(newKey);
    const seen = mock.requests.length;
    const v = await validate(s, 'rotate_old');
    expect(v.status).toBe(500);
    expect(v.text).not.toContain(oldSecret.value.slice(-12));
    expect(mock.requests.length).toBe(seen);
    const ok = await validate(s, 'rotate_new');
    expect(ok.body, ok.text).toMatchObject({ valid: true });
    expect(mock.requests.at(-1)?.key).toBe(newSecret.value);
  }, 180_000);
});
