import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomId } from '../../src/auth/api-key-format.js';
import { type KeyWrite, KeyWriteBatcher } from '../../src/domain/provider-key-writes.js';
import { aadFor, PROVIDER_KEY_KIND } from '../../src/vault/aad.js';
import { startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { canaryKey, expectNoLeaks, type MockProvider, mockProviderEnv, startMockProvider } from '../helpers/support.js';

/**
 * Concurrent connects share one statement (domain/provider-key-writes.ts). Whatever the batching, each
 * connect must store its own key, sealed for its own row, with exactly one event and one audit
 * row, and a connect that may not write (a publishable key on an active refId) must not take
 * the others down with it.
 */

let server: TestServer;
let mock: MockProvider;
let p: TestProject;
const canaries: string[] = [];

beforeAll(async () => {
  mock = await startMockProvider();
  server = await startTestServer({
    ...mockProviderEnv(mock),
    BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000',
    BYO_RATE_LIMIT_CONNECT_PER_IP: '100000',
    BYO_RATE_LIMIT_CONNECT_PER_SECRET_KEY: '0', // 200 at once from one secret key
  });
  p = await server.createProject();
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
  await mock?.close();
}, 180_000);

function secret(label: string): string {
  const k = canaryKey(label);
  canaries.push(k);
  mock.validKeys.add(k);
  return k;
}

const connect = (key: string, body: Record<string, unknown>) => server.request('POST', '/v1/keys/connect', { key, body });

describe('concurrent connects written together', () => {
  it('200 connects at once: every key stored for its own refId, decrypts to what was sent, one event and audit row each', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => secret(`batch${i}`));
    const results = await Promise.all(keys.map((k, i) => connect(p.skTest, { provider: 'openai', refId: `batch_${i}`, providerKey: k })));
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(200);
    for (const [i, r] of results.entries()) {
      expect(r.body).toMatchObject({ refId: `batch_${i}`, updated: false, keyHint: `sk-...${keys[i]?.slice(-4)}` });
    }

    // Validation decrypts each stored key and sends it to the provider: each refId's own key.
    mock.requests.length = 0;
    for (const i of [0, 63, 64, 127, 199]) {
      const v = await server.request('POST', '/v1/keys/validate', { key: p.skTest, body: { provider: 'openai', refId: `batch_${i}` } });
      expect(v.status, v.text).toBe(200);
      expect(mock.requests.at(-1)?.key).toBe(keys[i]);
    }

    const db = server.app.services.db;
    const events = await db
      .selectFrom('events')
      .select(['data'])
      .where('type', '=', 'key.connected')
      .where('project_id', '=', p.id)
      .execute();
    const refs = events.map((e) => (e.data as { refId: string }).refId).filter((r) => r.startsWith('batch_'));
    expect(refs.sort()).toEqual(keys.map((_, i) => `batch_${i}`).sort());
    const audits = await db
      .selectFrom('audit_log')
      .select(['target'])
      .where('action', '=', 'key.connected')
      .where('project_id', '=', p.id)
      .execute();
    const ids = new Set(results.map((r) => r.body.id));
    expect(audits.filter((a) => ids.has(a.target as string))).toHaveLength(200);
  });

  it('a refused publishable connect in the same burst fails alone; the other writes land', async () => {
    const first = secret('pkfirst');
    expect((await connect(p.pkTest, { provider: 'anthropic', refId: 'pk_taken', providerKey: first })).status).toBe(200);
    const fresh = Array.from({ length: 30 }, (_, i) => secret(`pkfresh${i}`));
    const [taken, ...rest] = await Promise.all([
      connect(p.pkTest, { provider: 'anthropic', refId: 'pk_taken', providerKey: secret('pkagain') }),
      ...fresh.map((k, i) => connect(p.pkTest, { provider: 'anthropic', refId: `pk_fresh_${i}`, providerKey: k })),
      ...fresh.map((k, i) => connect(p.skTest, { provider: 'google', refId: `sk_fresh_${i}`, providerKey: k })),
    ]);
    expect(taken?.status, taken?.text).toBe(409);
    expect(taken?.body.code).toBe('key_exists');
    for (const r of rest) expect(r.status, r.text).toBe(200);
    const kept = await server.request('GET', '/v1/keys/anthropic/pk_taken', { key: p.skTest });
    expect(kept.body.keyHint).toBe(`sk-...${first.slice(-4)}`);
  });

  it('the same refId many times in one burst: one row, the last answer is what is stored', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => secret(`same${i}`));
    const results = await Promise.all(keys.map((k) => connect(p.skTest, { provider: 'openai', refId: 'same_ref', providerKey: k })));
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.body.updated === false)).toHaveLength(1);
    const stored = await server.request('GET', '/v1/keys/openai/same_ref', { key: p.skTest });
    expect(keys.map((k) => `sk-...${k.slice(-4)}`)).toContain(stored.body.keyHint);
    mock.requests.length = 0;
    const v = await server.request('POST', '/v1/keys/validate', { key: p.skTest, body: { provider: 'openai', refId: 'same_ref' } });
    expect(v.status, v.text).toBe(200);
    expect(`sk-...${mock.requests.at(-1)?.key?.slice(-4)}`).toBe(stored.body.keyHint);
  });

  // The key counts the dashboard reads are kept by a trigger in each connect statement: the
  // statements in flight together must not deadlock on its counter rows (PostgreSQL would break
  // each deadlock after a second and the batch would be retried row by row).
  it.runIf(usingPostgres)('statements in flight together never deadlock on the key counters, and the counts stay exact', async () => {
    const deadlocks = async () => {
      const r = await sql<{
        n: string;
      }>`select pg_stat_clear_snapshot(), (select deadlocks from pg_stat_database where datname = current_database())::text as n`.execute(
        server.app.services.db,
      );
      return Number(r.rows[0]?.n);
    };
    const before = await deadlocks();
    const q = await server.createProject({ validateOnConnect: false });
    // Not canaries: the leak scan of 2,000 more secrets would take longer than the burst.
    const keys = Array.from({ length: 2000 }, (_, i) => `sk-deadlock-${i}-${'x'.repeat(32)}`);
    const results = await Promise.all(keys.map((k, i) => connect(q.skTest, { provider: 'openai', refId: `dl_${i}`, providerKey: k })));
    for (const r of results) expect(r.status, r.text).toBe(200);
    await new Promise((r) => setTimeout(r, 1500)); // statistics reach pg_stat_database within a second
    expect(await deadlocks()).toBe(before);
    const overview = await server.request('GET', '/v1/overview', { key: q.skTest });
    expect(overview.body.keys).toMatchObject({ active: 2000 });
  });
});

describe('KeyWriteBatcher on the real database', () => {
  const write = (refId: string, over: Partial<KeyWrite> = {}): KeyWrite => {
    const id = randomId('key');
    const sealed = server.app.services.vault.seal(
      PROVIDER_KEY_KIND,
      aadFor({ project_id: p.id, mode: 'test', provider: 'openai', ref_id: refId, id }),
      'sk-batcher-0000000000000000',
    );
    return {
      id,
      projectId: p.id,
      mode: 'test',
      provider: 'openai',
      refId,
      hint: 'sk-...0000',
      baseUrl: null,
      sealed,
      validatedAt: null,
      validationResult: null,
      firstOnly: false,
      event: { provider: 'openai', refId, keyHint: 'sk-...0000', by: 'secret_key' },
      audit: { actor: 'test', ip: null, user_agent: null, metadata: {} },
      ...over,
    };
  };

  it('a row the database refuses fails alone; the rest of its statement is written', async () => {
    const b = new KeyWriteBatcher(server.app.services);
    // NUL is not allowed in PostgreSQL text: a data exception (SQLSTATE 22021) for the statement.
    const results = await Promise.allSettled([
      b.write(write('wb_ok_1')),
      b.write(write('wb_bad', { hint: 'sk-...\u0000' })),
      b.write(write('wb_ok_2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(b.stats.statements).toBe(2); // (stats count statements that succeeded) the two good rows, one by one
    for (const ref of ['wb_ok_1', 'wb_ok_2']) {
      expect((await server.request('GET', `/v1/keys/openai/${ref}`, { key: p.skTest })).status).toBe(200);
    }
    expect((await server.request('GET', '/v1/keys/openai/wb_bad', { key: p.skTest })).status).toBe(404);
  });

  it('writes for one ref never share or overlap statements: the second waits for the first', async () => {
    const b = new KeyWriteBatcher(server.app.services);
    const first = write('wb_same');
    const second = write('wb_same');
    const [r1, r2] = await Promise.all([b.write(first), b.write(second)]);
    expect(r1?.id).toBe(first.id);
    expect(r1?.inserted).toBe(true);
    expect(r2).toBeNull(); // the ref has another row now: the caller re-seals for that row's id
    expect(b.stats.statements).toBe(2);
  });

  it('an error that leaves the outcome unknown (not a data error) fails every write of the statement, none retried', async () => {
    const services = server.app.services;
    const lost = new Error('Connection terminated unexpectedly');
    let attempts = 0;
    // The real executor compiles the statement; sending it fails as a dropped connection would.
    const real = services.db.getExecutor();
    const executor = {
      transformQuery: (node: unknown, id: unknown) => (real.transformQuery as (n: unknown, i: unknown) => unknown)(node, id),
      compileQuery: (node: unknown, id: unknown) => (real.compileQuery as (n: unknown, i: unknown) => unknown)(node, id),
      executeQuery: async () => {
        attempts++;
        throw lost;
      },
    };
    const failing = { ...services, db: { getExecutor: () => executor } as unknown as typeof services.db };
    const b = new KeyWriteBatcher(failing);
    const results = await Promise.allSettled([b.write(write('wb_lost_1')), b.write(write('wb_lost_2'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(attempts).toBe(1); // the one statement; neither write was sent again on its own
  });
});
