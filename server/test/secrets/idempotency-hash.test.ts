import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { masterKey, persistentStorage } from './helpers.js';

/**
 * The stored `request_hash` of an `Idempotency-Key` is an HMAC under a key sealed by a master key, not a
 * plain hash: a database dump cannot confirm a guessed provider key from a `keys.connect` row.
 * Retries still replay across a restart, and across a master-key rotation while the old key is in
 * the keyring.
 */

const storage = persistentStorage();
const adminToken = `admin_${randomBytes(24).toString('hex')}`;
const OLD = masterKey('old');
const NEW = masterKey('new');
const env = (keys: string) => ({ ...storage.env, BYO_ADMIN_TOKEN: adminToken, BYO_MASTER_KEYS: keys, BYO_WEBHOOKS: 'false' });

let server: TestServer;
let project: TestProject;

async function restart(keys: string) {
  await server.close();
  server = await startTestServer(env(keys));
}

const PROVIDER_KEY = `sk-idemhash-${randomBytes(12).toString('hex')}`;
const BODY = { provider: 'openai', refId: 'cust_hash', providerKey: PROVIDER_KEY };
const connect = (idem: string, body: Record<string, unknown> = BODY) =>
  server.request('POST', '/v1/keys/connect', { key: project.skTest, body, headers: { 'idempotency-key': idem } });

async function storedHash(idem: string): Promise<string> {
  const row = await server.app.services.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('project_id', '=', project.id)
    .where('key', '=', idem)
    .executeTakeFirstOrThrow();
  expect(JSON.stringify(row)).not.toContain(PROVIDER_KEY);
  return row.request_hash;
}

async function connectedEvents(): Promise<number> {
  const rows = await server.app.services.db
    .selectFrom('events')
    .select('id')
    .where('project_id', '=', project.id)
    .where('type', '=', 'key.connected')
    .execute();
  return rows.length;
}

beforeAll(async () => {
  server = await startTestServer(env(OLD));
  project = await server.createProject();
}, 120_000);

afterAll(async () => {
  await server?.close();
  storage.cleanup();
});

describe('Idempotency-Key request hash', () => {
  let first: { status: number; body: unknown };

  it('is keyed: not a plain SHA-256 of the input, and holds neither the provider key nor its hash', async () => {
    first = await connect('hash-1');
    expect(first.status).toBe(200);
    const stored = await storedHash('hash-1');
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const keyHash = sha(PROVIDER_KEY);
    // What an attacker with the dump would compute for a guess, in every plain form.
    const guesses = [
      sha(`keys.connect${JSON.stringify({ ...BODY, providerKey: undefined, keyHash })}`),
      sha(`keys.connect${JSON.stringify(BODY)}`),
      sha(JSON.stringify(['keys.connect', { ...BODY, providerKey: undefined, keyHash }])),
      sha(JSON.stringify(['keys.connect', BODY])),
      keyHash,
    ];
    for (const g of guesses) expect(stored).not.toBe(g);
    expect(stored).not.toContain(keyHash);
  });

  it('a retry after a restart with the same keyring replays; another body is 422 idempotency_conflict', async () => {
    await restart(OLD);
    const again = await connect('hash-1');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await connectedEvents()).toBe(1);
    const other = await connect('hash-1', { ...BODY, providerKey: `${PROVIDER_KEY}x` });
    expect(other.status, JSON.stringify(other.body)).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency_conflict' });
    expect(JSON.stringify(other.body)).not.toContain(PROVIDER_KEY);
  });

  it('after a master-key rotation (old key still in the keyring) a retry replays; new hashes use the new key', async () => {
    await restart(`${NEW},${OLD}`);
    const again = await connect('hash-1');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const other = await connect('hash-1', { ...BODY, refId: 'cust_other' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_conflict');
    expect(await connectedEvents()).toBe(1);

    // A request under the new active key, retried once the old key has left the keyring: replays.
    const second = await connect('hash-2', { ...BODY, refId: 'cust_two' });
    expect(second.status).toBe(200);
    await restart(NEW);
    const replay = await connect('hash-2', { ...BODY, refId: 'cust_two' });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(second.body);
    expect(await connectedEvents()).toBe(2);
    // The one hashed under the removed key cannot be matched any more: a conflict, never a second run.
    const orphan = await connect('hash-1');
    expect(orphan.status).toBe(422);
    expect(orphan.body.code).toBe('idempotency_conflict');
    expect(await connectedEvents()).toBe(2);
  });
});
