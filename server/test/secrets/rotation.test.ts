import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretContext as webhookSecretAad, WEBHOOK_SECRET_KIND } from '../../src/vault/aad.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { masterKey, persistentStorage, seedProviderKeys } from './helpers.js';

/**
 * Rotation re-wraps data keys under the active master key, in batches, resumably;
 * `secrets.status` tells the operator when an old key may leave the keyring.
 */

const storage = persistentStorage();
const adminToken = `admin_${randomBytes(24).toString('hex')}`;
const OLD = masterKey('old');
const NEW = masterKey('new');
const STRAY = masterKey('stray');
const env = (keys: string) => ({
  ...storage.env,
  BYO_ADMIN_TOKEN: adminToken,
  BYO_MASTER_KEYS: keys,
  // The endpoint below is never delivered to: no dispatcher.
  BYO_WEBHOOKS: 'false',
  BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
});

let server: TestServer;
let project: TestProject;
let WEBHOOK_SECRET: string;
let PREVIOUS_SECRET: string;
let endpointId: string;

const admin = (method: string, path: string, body?: unknown) => server.request(method, path, { key: adminToken, body });
const validate = (refId: string) =>
  server.request('POST', '/v1/keys/validate', { key: project.skTest, body: { provider: 'openai', refId } });

async function restart(keys: string) {
  await server.close();
  server = await startTestServer(env(keys));
}

beforeAll(async () => {
  server = await startTestServer(env(OLD));
  project = await server.createProject();
  for (let i = 0; i < 5; i++) {
    const r = await server.request('POST', '/v1/keys/connect', {
      key: project.skTest,
      body: { provider: 'openai', refId: `cust_${i}`, providerKey: 'sk-byo-test-valid' },
    });
    expect(r.status, r.text).toBe(200);
  }
  await seedProviderKeys(server.app.services, { projectId: project.id, mode: 'test', count: 40 });
  // A webhook endpoint in the middle of a secret rotation: current and previous secrets.
  const created = await server.request('POST', '/v1/webhooks/endpoints', { key: project.skTest, body: { url: 'http://127.0.0.1:9/hook' } });
  expect(created.status, created.text).toBe(200);
  endpointId = created.body.id;
  PREVIOUS_SECRET = created.body.secret;
  const rotated = await server.request('POST', `/v1/webhooks/endpoints/${endpointId}/rotate-secret`, {
    key: project.skTest,
    body: { overlapSeconds: 3600 },
  });
  expect(rotated.status, rotated.text).toBe(200);
  WEBHOOK_SECRET = rotated.body.secret;
  await restart(`${NEW},${OLD}`);
}, 120_000);

afterAll(async () => {
  await server?.close();
  storage.cleanup();
});

describe('secrets.status', () => {
  it('counts rows per master key id, active key first', async () => {
    const r = await admin('GET', '/v1/admin/secrets/status');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      activeKeyId: 'new',
      keyring: ['new', 'old'],
      keys: [
        { id: 'new', active: true, inKeyring: true, providerKeys: 0, webhookSecrets: 0, idempotencyResponses: 0, total: 0 },
        { id: 'old', active: false, inKeyring: true, providerKeys: 45, webhookSecrets: 2, idempotencyResponses: 0, total: 47 },
      ],
      pending: 47,
      retirable: [],
    });
  });

  it('is for the admin token only', async () => {
    const r = await server.request('GET', '/v1/admin/secrets/status', { key: project.skTest });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('permission_denied');
    const b = await server.request('POST', '/v1/admin/secrets/rotate-batch', { key: project.skTest, body: {} });
    expect(b.status).toBe(403);
  });
});

describe('secrets.rotateBatch', () => {
  it('re-wraps in batches until no row is on the old key, and every key still decrypts', async () => {
    const before = await server.app.services.db.selectFrom('provider_keys').select(['id', 'ciphertext', 'wrapped_key']).execute();
    const batches: { rewrapped: number; remaining: number; next: string | null }[] = [];
    let after: string | undefined;
    do {
      const r = await admin('POST', '/v1/admin/secrets/rotate-batch', { limit: 10, ...(after ? { after } : {}) });
      expect(r.status, r.text).toBe(200);
      expect(r.body.failed).toEqual([]);
      batches.push(r.body);
      after = r.body.next ?? undefined;
    } while (after);
    // 45 provider keys, then the webhook endpoint's current and previous secrets in the last batch.
    expect(batches.map((b) => b.rewrapped)).toEqual([10, 10, 10, 10, 7]);
    expect(batches.map((b) => b.remaining)).toEqual([37, 27, 17, 7, 0]);

    // The data ciphertext is untouched; only the wrapped data key changed.
    const after2 = await server.app.services.db
      .selectFrom('provider_keys')
      .select(['id', 'ciphertext', 'wrapped_key', 'master_key_id'])
      .execute();
    const byId = new Map(before.map((r) => [r.id, r]));
    for (const r of after2) {
      expect(r.master_key_id).toBe('new');
      expect(Buffer.compare(r.ciphertext as Buffer, byId.get(r.id)?.ciphertext as Buffer)).toBe(0);
      expect(Buffer.compare(r.wrapped_key as Buffer, byId.get(r.id)?.wrapped_key as Buffer)).not.toBe(0);
    }

    const status = await admin('GET', '/v1/admin/secrets/status');
    expect(status.body.keys).toContainEqual({
      id: 'old',
      active: false,
      inKeyring: true,
      providerKeys: 0,
      webhookSecrets: 0,
      idempotencyResponses: 0,
      total: 0,
    });
    expect(status.body.pending).toBe(0);
    expect(status.body.retirable).toEqual(['old']);

    // One audit row per batch, naming the active key, with no secret in it.
    const audit = await admin('GET', '/v1/admin/audit?action=secrets.rewrapped&limit=50');
    expect(audit.body.data).toHaveLength(5);
    expect(audit.body.data[0]).toMatchObject({ actor: 'admin', target: 'new', metadata: { rewrapped: 7, remaining: 0 } });
    expect(audit.text).not.toContain('whsec_');
    expect(audit.text).not.toContain('sk-byo');
  });

  it('is idempotent: a second run finds nothing to do and writes no audit row', async () => {
    const r = await admin('POST', '/v1/admin/secrets/rotate-batch', {});
    expect(r.body).toEqual({ activeKeyId: 'new', rewrapped: 0, failed: [], remaining: 0, next: null });
    const audit = await admin('GET', '/v1/admin/audit?action=secrets.rewrapped&limit=50');
    expect(audit.body.data).toHaveLength(5);
  });

  it('after the old key leaves the keyring, every key and webhook secret still decrypts', async () => {
    await restart(NEW);
    for (const refId of ['cust_0', 'cust_4', 'bulk_0', 'bulk_39']) {
      const v = await validate(refId);
      expect(v.body, v.text).toMatchObject({ valid: true });
    }
    const { vault, db } = server.app.services;
    const w = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpointId).executeTakeFirstOrThrow();
    const ctx = webhookSecretAad(w);
    expect(
      vault.open(WEBHOOK_SECRET_KIND, ctx, {
        ciphertext: w.secret_ciphertext,
        wrappedKey: w.secret_wrapped_key,
        masterKeyId: w.secret_master_key_id,
      }),
    ).toBe(WEBHOOK_SECRET);
    expect(
      vault.open(WEBHOOK_SECRET_KIND, ctx, {
        ciphertext: w.previous_secret_ciphertext as Buffer,
        wrappedKey: w.previous_secret_wrapped_key as Buffer,
        masterKeyId: w.previous_secret_master_key_id as string,
      }),
    ).toBe(PREVIOUS_SECRET);
    const status = await admin('GET', '/v1/admin/secrets/status');
    expect(status.body).toMatchObject({ activeKeyId: 'new', keyring: ['new'], pending: 0, retirable: [] });
  });

  it('never claims rows wrapped by a key the server does not hold, and reports them', async () => {
    await restart(`${STRAY},${NEW}`);
    await seedProviderKeys(server.app.services, { projectId: project.id, mode: 'test', count: 3, prefix: 'stray_' });
    await restart(NEW);
    const status = await admin('GET', '/v1/admin/secrets/status');
    expect(status.body.keys).toContainEqual({
      id: 'stray',
      active: false,
      inKeyring: false,
      providerKeys: 3,
      webhookSecrets: 0,
      idempotencyResponses: 0,
      total: 3,
    });
    expect(status.body.pending).toBe(3);
    expect(status.body.retirable).toEqual([]);
    const r = await admin('POST', '/v1/admin/secrets/rotate-batch', {});
    expect(r.body).toEqual({ activeKeyId: 'new', rewrapped: 0, failed: [], remaining: 3, next: null });
  });

  it('reports a row that fails to decrypt and moves past it within the pass', async () => {
    await restart(`${NEW},${STRAY}`);
    // Swap two rows' wrapped keys: the associated data no longer matches, so both fail.
    const { db } = server.app.services;
    const rows = await db
      .selectFrom('provider_keys')
      .select(['id', 'wrapped_key'])
      .where('master_key_id', '=', 'stray')
      .orderBy('id')
      .execute();
    expect(rows).toHaveLength(3);
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    await db.updateTable('provider_keys').set({ wrapped_key: b.wrapped_key }).where('id', '=', a.id).execute();
    await db.updateTable('provider_keys').set({ wrapped_key: a.wrapped_key }).where('id', '=', b.id).execute();
    const first = await admin('POST', '/v1/admin/secrets/rotate-batch', { limit: 2 });
    expect(first.body.rewrapped).toBe(0);
    expect(first.body.failed.map((f: { id: string }) => f.id)).toEqual([a.id, b.id]);
    expect(first.body.failed[0]).toEqual({ table: 'provider_keys', id: a.id, reason: 'decryption failed' });
    const second = await admin('POST', '/v1/admin/secrets/rotate-batch', { limit: 2, after: first.body.next });
    expect(second.body).toMatchObject({ rewrapped: 1, failed: [], remaining: 2, next: null });
  });

  it('concurrent rotations claim disjoint rows: each row is re-wrapped exactly once', async () => {
    const NEWER = masterKey('newer');
    await restart(`${NEWER},${NEW},${STRAY}`);
    const status = await admin('GET', '/v1/admin/secrets/status');
    const onNew = status.body.keys.find((k: { id: string }) => k.id === 'new').total as number;
    // 45 provider keys + 2 webhook secrets + the stray row re-wrapped above
    expect(onNew).toBe(48);
    const runPass = async () => {
      let total = 0;
      let after: string | undefined;
      do {
        const r = await admin('POST', '/v1/admin/secrets/rotate-batch', { limit: 5, ...(after ? { after } : {}) });
        expect(r.status, r.text).toBe(200);
        total += r.body.rewrapped;
        after = r.body.next ?? undefined;
      } while (after);
      return total;
    };
    let rewrapped = 0;
    for (let pass = 0; pass < 5; pass++) {
      const totals = await Promise.all([runPass(), runPass(), runPass(), runPass()]);
      rewrapped += totals.reduce((a, b) => a + b, 0);
      const s = await admin('GET', '/v1/admin/secrets/status');
      if (s.body.keys.find((k: { id: string }) => k.id === 'new').total === 0) break;
    }
    // The two rows corrupted above stay on "stray"; everything else moved exactly once.
    expect(rewrapped).toBe(onNew);
    const after = await admin('GET', '/v1/admin/secrets/status');
    expect(after.body.pending).toBe(2);
    expect(after.body.retirable).toEqual(['new']);
  });
});
