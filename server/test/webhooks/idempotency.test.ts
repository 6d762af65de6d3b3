import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IDEMPOTENCY_LEASE_MS, withIdempotency } from '../../src/domain/idempotency.js';
import { BYOError } from '../../src/errors.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { bothValid, Receiver, type Received } from './receiver.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * `Idempotency-Key` on the secret-key writes a retry would repeat: webhook endpoint create,
 * rotate-secret, redeliver, and connect-token create. Same key and body: the stored response is
 * replayed and nothing happens twice; same key, another body: 422 idempotency_conflict.
 */

let server: TestServer;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  server = await startTestServer({
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    BYO_WEBHOOK_SCHEDULE: '0,100ms,200ms',
    BYO_WEBHOOK_POLL_INTERVAL: '50ms',
    BYO_WEBHOOK_TIMEOUT: '2s',
  });
}, 180_000);
afterAll(async () => {
  await server?.close();
  await receiver.stop();
});

const post = (p: TestProject, path: string, body: unknown, idem?: string) =>
  server.request('POST', path, { key: p.skTest, body, ...(idem ? { headers: { 'idempotency-key': idem } } : {}) });

async function auditCount(p: TestProject, action: string): Promise<number> {
  const res = await server.request('GET', `/v1/admin/audit?projectId=${p.id}&action=${action}&limit=500`, { key: server.adminToken });
  expect(res.status, res.text).toBe(200);
  return res.body.data.length;
}

/** Every stored idempotency row of a project, as text: no secret may appear in it. */
async function storedResponses(p: TestProject): Promise<string> {
  const rows = await server.app.services.db.selectFrom('idempotency_keys').selectAll().where('project_id', '=', p.id).execute();
  return JSON.stringify(rows);
}

describe('Idempotency-Key on webhook and connect-token writes', () => {
  it('endpoint create: a retry replays the response (same id, same secret) and creates nothing', async () => {
    const p = await server.createProject();
    const body = { url: `${receiver.url}/idem-${p.id}`, description: 'retry me' };
    const first = await post(p, '/v1/webhooks/endpoints', body, 'create-1');
    expect(first.status, first.text).toBe(200);
    const again = await post(p, '/v1/webhooks/endpoints', body, 'create-1');
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.body.secret).toMatch(/^whsec_/);
    const list = await server.request('GET', '/v1/webhooks/endpoints', { key: p.skTest });
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([first.body.id]);
    expect(await auditCount(p, 'webhook_endpoint.created')).toBe(1);

    // The replayed secret is the endpoint's: a test delivery verifies with it.
    const t = await post(p, `/v1/webhooks/endpoints/${first.body.id}/test`, {});
    expect(t.body.success, t.text).toBe(true);
    const got = receiver.received.filter((r) => r.path === `/idem-${p.id}`);
    expect(bothValid(again.body.secret, got[0] as Received)).toBe(true);

    // The stored copy keeps the secret sealed.
    const stored = await storedResponses(p);
    expect(stored).toContain(first.body.id);
    expect(stored).not.toContain(first.body.secret);
    expect(stored).not.toContain(first.body.secret.slice(6));

    const other = await post(p, '/v1/webhooks/endpoints', { ...body, description: 'another' }, 'create-1');
    expect(other.status, other.text).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency_conflict' });
    // Without a key, each call is a new endpoint.
    expect((await post(p, '/v1/webhooks/endpoints', body)).status).toBe(200);
    expect((await post(p, '/v1/webhooks/endpoints', body)).status).toBe(200);
    expect(await auditCount(p, 'webhook_endpoint.created')).toBe(3);
  });

  it('rotate-secret: a retry returns the same new secret and rotates once', async () => {
    const p = await server.createProject();
    const ep = await post(p, '/v1/webhooks/endpoints', { url: `${receiver.url}/rot-${p.id}` });
    const path = `/v1/webhooks/endpoints/${ep.body.id}/rotate-secret`;
    const first = await post(p, path, { overlapSeconds: 0 }, 'rotate-1');
    expect(first.status, first.text).toBe(200);
    const again = await post(p, path, { overlapSeconds: 0 }, 'rotate-1');
    expect(again.body).toEqual(first.body);
    expect(await auditCount(p, 'webhook_endpoint.secret_rotated')).toBe(1);
    // Had the retry rotated again, the returned secret would no longer sign (overlap 0).
    const t = await post(p, `/v1/webhooks/endpoints/${ep.body.id}/test`, {});
    expect(t.body.success, t.text).toBe(true);
    const got = receiver.received.filter((r) => r.path === `/rot-${p.id}`);
    expect(bothValid(again.body.secret, got[got.length - 1] as Received)).toBe(true);
    expect(await storedResponses(p)).not.toContain(first.body.secret.slice(6));

    const conflict = await post(p, path, { overlapSeconds: 60 }, 'rotate-1');
    expect(conflict.status).toBe(422);
    expect(conflict.body.code).toBe('idempotency_conflict');
  });

  it('redeliver: a retry replays the response and queues the delivery once', async () => {
    const p = await server.createProject();
    const ep = await post(p, '/v1/webhooks/endpoints', { url: `${receiver.url}/redeliver-${p.id}` });
    const t = await post(p, `/v1/webhooks/endpoints/${ep.body.id}/test`, {});
    expect(t.body.success, t.text).toBe(true);
    const path = `/v1/webhooks/deliveries/${t.body.delivery.id}/redeliver`;
    const first = await post(p, path, {}, 'redeliver-1');
    expect(first.status, first.text).toBe(200);
    const again = await post(p, path, {}, 'redeliver-1');
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await auditCount(p, 'webhook_delivery.redelivered')).toBe(1);
    await receiver.waitFor(() => receiver.received.filter((r) => r.path === `/redeliver-${p.id}`).length >= 2, 10_000, 'the redelivery');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.filter((r) => r.path === `/redeliver-${p.id}`)).toHaveLength(2);

    // The same key on another operation is a conflict too.
    const elsewhere = await post(p, '/v1/webhooks/endpoints', { url: `${receiver.url}/x` }, 'redeliver-1');
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.code).toBe('idempotency_conflict');
  });

  it('connect-token create: a retry returns the same token, stored sealed', async () => {
    const p = await server.createProject();
    const body = { refId: 'cust_1', providers: ['openai'] };
    const first = await post(p, '/v1/connect-tokens', body, 'token-1');
    expect(first.status, first.text).toBe(200);
    expect(first.body.token).toMatch(/^byo_ct_/);
    const again = await post(p, '/v1/connect-tokens', body, 'token-1');
    expect(again.body).toEqual(first.body);
    expect(await auditCount(p, 'connect_token.created')).toBe(1);
    expect(await storedResponses(p)).not.toContain(first.body.token.slice(7));
    const rows = await server.app.services.db.selectFrom('connect_tokens').select('id').where('project_id', '=', p.id).execute();
    expect(rows).toHaveLength(1);

    const conflict = await post(p, '/v1/connect-tokens', { ...body, refId: 'cust_2' }, 'token-1');
    expect(conflict.status).toBe(422);
    expect(conflict.body.code).toBe('idempotency_conflict');
    // Keys are per project and mode: the live key's namespace does not see this one.
    const live = await server.request('POST', '/v1/connect-tokens', {
      key: p.skLive,
      body,
      headers: { 'idempotency-key': 'token-1' },
    });
    expect(live.status, live.text).toBe(200);
    expect(live.body.token).not.toBe(first.body.token);
  });
});

/**
 * The key is claimed before the operation runs (one atomic insert of an `in_progress` row), so
 * simultaneous requests with one key run it once; the others get 409 idempotency_in_progress
 * (Retry-After: 1) or, once it completed, the replayed response. Errors are not stored: the
 * claim is released and a retry runs. A claim older than the lease (a crashed request) is taken over.
 */
describe('Idempotency-Key claims: one run per key, even for simultaneous requests', () => {
  const N = 8;

  function expectOneRunOrInProgress(results: { status: number; body: any; headers: Headers; text: string }[]) {
    const ok = results.filter((r) => r.status === 200);
    const busy = results.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of busy) {
      expect(r.status, r.text).toBe(409);
      expect(r.body.code).toBe('idempotency_in_progress');
      expect(r.body.message).toBe('Another request with this Idempotency-Key is in progress; retry after it completes.');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    for (const r of ok) expect(r.body).toEqual(ok[0]?.body);
    return ok[0]?.body;
  }

  async function claimRow(p: TestProject, key: string) {
    return server.app.services.db
      .selectFrom('idempotency_keys')
      .select(['status', 'claim_id', 'response'])
      .where('project_id', '=', p.id)
      .where('key', '=', key)
      .executeTakeFirst();
  }

  it(`${N} simultaneous endpoint creates with one key: one endpoint, one audit row`, async () => {
    const p = await server.createProject();
    const body = { url: `${receiver.url}/race-${p.id}` };
    const results = await Promise.all(Array.from({ length: N }, () => post(p, '/v1/webhooks/endpoints', body, 'race-1')));
    const created = expectOneRunOrInProgress(results);
    const list = await server.request('GET', '/v1/webhooks/endpoints', { key: p.skTest });
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([created.id]);
    expect(await auditCount(p, 'webhook_endpoint.created')).toBe(1);
    // Completed: a retry replays it.
    const again = await post(p, '/v1/webhooks/endpoints', body, 'race-1');
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(created);
    expect(await claimRow(p, 'race-1')).toMatchObject({ status: 'completed', claim_id: null });
  });

  it(`${N} simultaneous keys.connect with one key: one key version, one event, one audit row`, async () => {
    const p = await server.createProject();
    const body = { provider: 'openai', refId: 'race', providerKey: 'sk-race-0000000000000000000000' };
    const results = await Promise.all(Array.from({ length: N }, () => post(p, '/v1/keys/connect', body, 'connect-race')));
    const first = expectOneRunOrInProgress(results);
    const db = server.app.services.db;
    const events = await db.selectFrom('events').select('id').where('project_id', '=', p.id).where('type', '=', 'key.connected').execute();
    expect(events).toHaveLength(1);
    expect(await auditCount(p, 'key.connected')).toBe(1);
    const keys = await db.selectFrom('provider_keys').select('id').where('project_id', '=', p.id).execute();
    expect(keys).toHaveLength(1);
    const again = await post(p, '/v1/keys/connect', body, 'connect-race');
    expect(again.body).toEqual(first);
    expect(await auditCount(p, 'key.connected')).toBe(1);

    // keys.revoke the same way: one revocation.
    const ref = { provider: 'openai', refId: 'race' };
    const revokes = await Promise.all(Array.from({ length: N }, () => post(p, '/v1/keys/revoke', ref, 'revoke-race')));
    expectOneRunOrInProgress(revokes);
    expect(await auditCount(p, 'key.revoked')).toBe(1);
  });

  it('a request while the key is claimed gets 409 idempotency_in_progress; a claim past its lease is taken over', async () => {
    const p = await server.createProject();
    const db = server.app.services.db;
    const body = { refId: 'cust_lease', providers: ['openai'] };
    // Another request (say on another instance) claimed the key and has not finished.
    const first = await post(p, '/v1/connect-tokens', body, 'lease-1');
    expect(first.status, first.text).toBe(200);
    await db
      .updateTable('idempotency_keys')
      .set({ status: 'in_progress', claim_id: 'another-request', response: null, created_at: sql<Date>`now()` })
      .where('project_id', '=', p.id)
      .where('key', '=', 'lease-1')
      .execute();
    const busy = await post(p, '/v1/connect-tokens', body, 'lease-1');
    expect(busy.status, busy.text).toBe(409);
    expect(busy.body.code).toBe('idempotency_in_progress');
    expect(busy.headers.get('retry-after')).toBe('1');
    // Another body with the key is still a conflict, running or not.
    const other = await post(p, '/v1/connect-tokens', { ...body, refId: 'cust_other' }, 'lease-1');
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_conflict');
    expect(await auditCount(p, 'connect_token.created')).toBe(1);

    // That request crashed: once its claim is older than the lease, a retry runs.
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - IDEMPOTENCY_LEASE_MS - 5_000) })
      .where('project_id', '=', p.id)
      .where('key', '=', 'lease-1')
      .execute();
    const taken = await post(p, '/v1/connect-tokens', body, 'lease-1');
    expect(taken.status, taken.text).toBe(200);
    expect(taken.body.token).not.toBe(first.body.token);
    expect(await auditCount(p, 'connect_token.created')).toBe(2);
    const replay = await post(p, '/v1/connect-tokens', body, 'lease-1');
    expect(replay.body).toEqual(taken.body);
    expect(await claimRow(p, 'lease-1')).toMatchObject({ status: 'completed', claim_id: null });
  });

  it('an error response is not stored: the claim is released and a retry with the key runs', async () => {
    const p = await server.createProject();
    const ref = { provider: 'openai', refId: 'later' };
    const missing = await post(p, '/v1/keys/revoke', ref, 'revoke-later');
    expect(missing.status, missing.text).toBe(404);
    expect(missing.body.code).toBe('key_not_found');
    expect(await claimRow(p, 'revoke-later')).toBeUndefined();
    const c = await post(p, '/v1/keys/connect', { ...ref, providerKey: 'sk-later-000000000000000000000' });
    expect(c.status, c.text).toBe(200);
    const revoked = await post(p, '/v1/keys/revoke', ref, 'revoke-later');
    expect(revoked.status, revoked.text).toBe(200);
    expect(await auditCount(p, 'key.revoked')).toBe(1);
  });

  it('withIdempotency against the database: held run, 5xx release, 4xx release, replay', async () => {
    const p = await server.createProject();
    const db = server.app.services.db;
    const scope = { projectId: p.id, mode: 'test' as const };
    const vault = server.app.services.vault;
    const idem = <T>(key: string, op: string, input: unknown, run: () => Promise<T>) =>
      withIdempotency(db, scope, key, op, input, run, { vault });
    let runs = 0;
    let finish!: (v: { n: number }) => void;
    const held = idem('unit-1', 'unit.op', { a: 1 }, () => {
      runs++;
      return new Promise<{ n: number }>((r) => {
        finish = r;
      });
    });
    await vi.waitFor(() => expect(runs).toBe(1));
    expect(await claimRow(p, 'unit-1')).toMatchObject({ status: 'in_progress', response: null });
    const concurrent = await Promise.allSettled(
      Array.from({ length: 4 }, () => idem('unit-1', 'unit.op', { a: 1 }, async () => ({ n: ++runs }))),
    );
    for (const c of concurrent) {
      expect(c.status).toBe('rejected');
      const e = (c as PromiseRejectedResult).reason as BYOError;
      expect(e).toBeInstanceOf(BYOError);
      expect([e.code, e.status, e.retryAfter]).toEqual(['idempotency_in_progress', 409, 1]);
    }
    // The same key for another operation while it runs: a conflict, not "in progress".
    await expect(idem('unit-1', 'unit.other', { a: 1 }, async () => ({ n: 0 }))).rejects.toMatchObject({
      code: 'idempotency_conflict',
      status: 422,
    });
    finish({ n: 1 });
    expect(await held).toEqual({ n: 1 });
    expect(await idem('unit-1', 'unit.op', { a: 1 }, async () => ({ n: ++runs }))).toEqual({ n: 1 });
    expect(runs).toBe(1);

    // 5xx (the database went away mid-operation): released, the retry runs and is stored.
    const unavailable = () => Promise.reject(new BYOError('database_unavailable', 'down', { retryAfter: 2 }));
    await expect(idem('unit-2', 'unit.op', {}, unavailable)).rejects.toMatchObject({ code: 'database_unavailable' });
    expect(await claimRow(p, 'unit-2')).toBeUndefined();
    expect(await idem('unit-2', 'unit.op', {}, async () => ({ n: 2 }))).toEqual({ n: 2 });
    expect(await idem('unit-2', 'unit.op', {}, async () => ({ n: 3 }))).toEqual({ n: 2 });

    // A plain exception (500) and a 4xx: released the same way.
    await expect(idem('unit-3', 'unit.op', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(idem('unit-3', 'unit.op', {}, () => Promise.reject(new BYOError('key_not_found', 'nope')))).rejects.toMatchObject({
      code: 'key_not_found',
    });
    expect(await idem('unit-3', 'unit.op', {}, async () => ({ n: 4 }))).toEqual({ n: 4 });

    // A stored response older than 24 h is not replayed: the key runs again.
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - 86_400_000 - 60_000) })
      .where('project_id', '=', p.id)
      .where('key', '=', 'unit-3')
      .execute();
    expect(await idem('unit-3', 'unit.op', {}, async () => ({ n: 5 }))).toEqual({ n: 5 });

    // A request whose claim was taken over after the lease does not overwrite the new owner's response.
    let slowFinish!: (v: { n: number }) => void;
    const slow = idem(
      'unit-4',
      'unit.op',
      {},
      () =>
        new Promise<{ n: number }>((r) => {
          slowFinish = r;
        }),
    );
    await vi.waitFor(async () => expect(await claimRow(p, 'unit-4')).toBeDefined());
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - IDEMPOTENCY_LEASE_MS - 5_000) })
      .where('project_id', '=', p.id)
      .where('key', '=', 'unit-4')
      .execute();
    expect(await idem('unit-4', 'unit.op', {}, async () => ({ n: 6 }))).toEqual({ n: 6 });
    await vi.waitFor(() => expect(slowFinish).toBeDefined());
    slowFinish({ n: 7 });
    expect(await slow).toEqual({ n: 7 });
    expect(await idem('unit-4', 'unit.op', {}, async () => ({ n: 8 }))).toEqual({ n: 6 });
  });
});
