import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { keyringEnv, masterKey, persistentStorage } from './helpers.js';

/**
 * Master-key rotation re-wraps what stored Idempotency-Key records hold under
 * a master key (the key of their request hash, the secrets shown once in their response), so a
 * retry still replays after the old master key has left the keyring.
 */

const storage = persistentStorage();
const adminToken = `admin_${randomBytes(24).toString('hex')}`;
const OLD = masterKey('old');
const NEW = masterKey('new');
const env = keyringEnv(storage, adminToken);

let server: TestServer;
let project: TestProject;

async function restart(keys: string) {
  await server.close();
  server = await startTestServer(env(keys));
}

const admin = (method: string, path: string, body?: unknown) => server.request(method, path, { key: adminToken, body });

/** The idempotent writes: one whose response holds nothing secret, two whose response holds a secret shown once. */
const writes = {
  connect: {
    path: '/v1/keys/connect',
    idem: 'idem-connect',
    body: { provider: 'openai', refId: 'cust_idem', providerKey: 'sk-byo-test-valid' },
  },
  token: { path: '/v1/connect-tokens', idem: 'idem-token', body: { refId: 'cust_token' } },
  endpoint: { path: '/v1/webhooks/endpoints', idem: 'idem-endpoint', body: { url: 'http://127.0.0.1:9/hook' } },
};
type Write = keyof typeof writes;
const send = (w: Write, body: unknown = writes[w].body) =>
  server.request('POST', writes[w].path, { key: project.skTest, body, headers: { 'idempotency-key': writes[w].idem } });

const first = new Map<Write, unknown>();

async function eventCount(type: string): Promise<number> {
  const rows = await server.app.services.db
    .selectFrom('events')
    .select('id')
    .where('project_id', '=', project.id)
    .where('type', '=', type)
    .execute();
  return rows.length;
}

async function endpointCount(): Promise<number> {
  const rows = await server.app.services.db.selectFrom('webhook_endpoints').select('id').where('project_id', '=', project.id).execute();
  return rows.length;
}

beforeAll(async () => {
  server = await startTestServer(env(OLD));
  project = await server.createProject();
  for (const w of Object.keys(writes) as Write[]) {
    const r = await send(w);
    expect(r.status, r.text).toBe(200);
    first.set(w, r.body);
  }
  expect((first.get('token') as { token: string }).token).toMatch(/^byo_ct_/);
  expect((first.get('endpoint') as { secret: string }).secret).toMatch(/^whsec_/);
  await restart(`${NEW},${OLD}`);
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (usingPostgres && storage.env.BYO_DATABASE_SCHEMA) await dropSchema(storage.env.BYO_DATABASE_SCHEMA);
  storage.cleanup();
});

describe('master-key rotation and stored Idempotency-Key responses', () => {
  it('the status counts their data keys on the old key: it is not retirable yet', async () => {
    const r = await admin('GET', '/v1/admin/secrets/status');
    expect(r.status, r.text).toBe(200);
    const old = r.body.keys.find((k: { id: string }) => k.id === 'old');
    // Three request-hash keys, the connect token and the webhook secret in the stored responses.
    expect(old).toMatchObject({ idempotencyResponses: 5 });
    expect(r.body.retirable).toEqual([]);
  });

  it('rotation re-wraps them in resumable batches; then the old key is retirable', async () => {
    let after: string | undefined;
    let rewrapped = 0;
    let batches = 0;
    do {
      const r = await admin('POST', '/v1/admin/secrets/rotate-batch', { limit: 1, ...(after ? { after } : {}) });
      expect(r.status, r.text).toBe(200);
      expect(r.body.failed).toEqual([]);
      rewrapped += r.body.rewrapped;
      after = r.body.next ?? undefined;
      expect(++batches).toBeLessThan(50);
    } while (after);
    // Connect's provider key, the endpoint's secret, and the five data keys of the idempotency records.
    expect(rewrapped).toBe(7);
    const status = await admin('GET', '/v1/admin/secrets/status');
    expect(status.body.pending).toBe(0);
    expect(status.body.retirable).toEqual(['old']);
    const stored = await server.app.services.db.selectFrom('idempotency_keys').selectAll().where('project_id', '=', project.id).execute();
    expect(stored).toHaveLength(3);
    for (const row of stored) expect(JSON.stringify(row)).not.toMatch(/byo_ct_|whsec_|"masterKeyId":"old"/);
  });

  it('after a restart with only the new key, each Idempotency-Key replays the same response, without running again', async () => {
    await restart(NEW);
    const connected = await eventCount('key.connected');
    const endpoints = await endpointCount();
    for (const w of Object.keys(writes) as Write[]) {
      const again = await send(w);
      expect(again.status, `${w}: ${again.text}`).toBe(200);
      expect(again.body).toEqual(first.get(w));
    }
    expect(await eventCount('key.connected')).toBe(connected);
    expect(await endpointCount()).toBe(endpoints);
    // Another body with a stored key is still told apart.
    const other = await send('token', { refId: 'cust_other' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_conflict');
  });
});
