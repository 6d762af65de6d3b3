import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_CHANNEL } from '../../src/auth/authenticator.js';
import type { Database } from '../../src/db/schema.js';
import { KEYS_CHANNEL, keyCacheId } from '../../src/domain/provider-key-cache.js';
import type { Services } from '../../src/services.js';
import { gate, type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { dropSchema, startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { type ProxyEnv, proxyEnvFor } from './support.js';

/**
 * Races between a proxied call and a change of its key (revoke, replace, a provider 401),
 * made deterministic: the mock upstream holds its answer, or the proxy's database load of
 * the key is held after it has read the row, until the test has changed the key.
 */

/**
 * Holds the next load of a provider key (the SELECT of its ciphertext) after it has read the
 * row, until `release()`: a slow database, for one query. Wraps `services.db`, which the
 * proxy reads at every load; `release()` puts the real one back.
 */
function holdNextKeyLoad(services: Services): { reached: Promise<void>; release: () => void } {
  const real = services.db;
  const reached = gate();
  const held = gate();
  let armed = true;
  const isKeyLoad = (builder: { compile(): { sql: string } }) =>
    /^select .*"ciphertext".* from .*"provider_keys"/.test(builder.compile().sql);
  const wrap = <T extends object>(obj: T): T =>
    new Proxy(obj, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== 'function') return v;
        const fn = v as (...args: unknown[]) => unknown;
        if (prop === 'executeTakeFirst')
          return async (...args: unknown[]) => {
            const row = await fn.apply(target, args);
            if (armed && isKeyLoad(target as unknown as { compile(): { sql: string } })) {
              armed = false;
              reached.open();
              await held.promise;
            }
            return row;
          };
        return (...args: unknown[]) => {
          const r = fn.apply(target, args);
          return r && typeof r === 'object' && typeof (r as { compile?: unknown }).compile === 'function' ? wrap(r) : r;
        };
      },
    });
  services.db = wrap(real) as Kysely<Database>;
  return {
    reached: reached.promise,
    release: () => {
      services.db = real;
      held.open();
    },
  };
}

const outcome = (p: Promise<unknown>): Promise<'ok' | string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof OpenAI.APIError ? `${e.status} ${e.code ?? ''}`.trim() : String(e)),
  );

/**
 * Time for a call just sent to reach the proxy's key lookup while a load is held. It only
 * matters for showing the bug (a call joining the stale load); with or without it, a correct
 * proxy gives the same answers.
 */
const settle = () => new Promise((r) => setTimeout(r, 200));

const REJECTED = { status: 401, json: { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } } };

describe('one instance', () => {
  let env: ProxyEnv;

  beforeAll(async () => {
    const mock = await startMockUpstream();
    const server = await startTestServer({ ...mock.env, BYO_WEBHOOKS: 'false', BYO_USAGE_FLUSH_INTERVAL: '50ms' });
    const project = await server.createProject();
    env = proxyEnvFor(server, mock, project, async () => {
      await server.close();
      await mock.close();
    });
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  const keyStatus = async (refId: string) =>
    (await env.server.request('GET', `/v1/keys/openai/${refId}`, { key: env.project.skLive })).body.status as string;
  const disabledEvents = (refId: string) =>
    env.server.app.services.db
      .selectFrom('events')
      .select(['data'])
      .where('project_id', '=', env.project.id)
      .where('type', '=', 'key.disabled')
      .execute()
      .then((rows) => rows.map((r) => r.data as { refId: string; keyHint: string }).filter((d) => d.refId === refId));

  it('a key load that read the row before a revoke does not cache the revoked key, and calls after the revoke do not share it', async () => {
    await env.connect('openai', 'load_revoke', 'sk-proj-loadRevoke00000000000000001');
    const client = env.openai('load_revoke');
    const hold = holdNextKeyLoad(env.server.app.services);
    const first = outcome(client.models.list()); // a cache miss: its load reads the active row, then waits
    await hold.reached;
    const revoked = await env.server.request('POST', '/v1/keys/revoke', {
      key: env.project.skLive,
      body: { provider: 'openai', refId: 'load_revoke' },
    });
    expect(revoked.status).toBe(200);
    const during = outcome(client.models.list()); // arrives after the revoke, while the old load still runs
    await settle();
    hold.release();
    expect(await during).toBe('409 key_revoked');
    expect(await first).toBe('ok'); // it started before the revoke: served with the key its load read
    expect(await outcome(client.models.list())).toBe('409 key_revoked');
    expect(await outcome(client.models.list())).toBe('409 key_revoked');
  });

  it('a key load that read the row before a replace does not cache the replaced key', async () => {
    await env.connect('openai', 'load_replace', 'sk-proj-loadReplaceOld000000000001');
    const client = env.openai('load_replace');
    const hold = holdNextKeyLoad(env.server.app.services);
    env.mock.reset();
    const first = outcome(client.models.list());
    await hold.reached;
    await env.connect('openai', 'load_replace', 'sk-proj-loadReplaceNew000000000002');
    const during = outcome(client.models.list());
    await settle();
    hold.release();
    expect(await first).toBe('ok');
    expect(await during).toBe('ok');
    // The call that started before the replace sent the old key; the one after, the new key.
    expect(env.mock.requests.map((r) => r.headers.authorization).sort()).toEqual([
      'Bearer sk-proj-loadReplaceNew000000000002',
      'Bearer sk-proj-loadReplaceOld000000000001',
    ]);
    env.mock.reset();
    for (let i = 0; i < 3; i++) expect(await outcome(client.models.list())).toBe('ok');
    expect(env.mock.requests.map((r) => r.headers.authorization)).toEqual(Array(3).fill('Bearer sk-proj-loadReplaceNew000000000002'));
  });

  it('a provider 401 that arrives after the key was replaced does not disable the new key', async () => {
    const refId = 'swap_401';
    await env.connect('openai', refId, 'sk-proj-swapOld0000000000000000001');
    const client = env.openai(refId);
    await client.models.list(); // cached
    const arrived = gate();
    const answer = gate();
    env.mock.intercept({ path: '/models', times: 1 }, async () => {
      arrived.open();
      await answer.promise;
      return REJECTED;
    });
    const first = outcome(client.models.list());
    await arrived.promise; // the old key is on its way to the provider
    await env.connect('openai', refId, 'sk-proj-swapNew0000000000000000002'); // same row, new ciphertext
    answer.open();
    expect(await first).toBe('401 invalid_api_key'); // the provider's answer, unchanged

    // A disable of the old version would land within milliseconds; give it ample time.
    await new Promise((r) => setTimeout(r, 500));
    expect(await keyStatus(refId)).toBe('active');
    expect(await disabledEvents(refId)).toEqual([]);
    env.mock.reset();
    expect(await outcome(client.models.list())).toBe('ok');
    expect(env.mock.last()?.headers.authorization).toBe('Bearer sk-proj-swapNew0000000000000000002');

    // A 401 for the key that is stored now does disable it, once.
    env.mock.intercept({ path: '/models', times: 1 }, REJECTED);
    expect(await outcome(client.models.list())).toBe('401 invalid_api_key');
    const t0 = Date.now();
    while ((await keyStatus(refId)) !== 'disabled') {
      expect(Date.now() - t0).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 25));
    }
    const events = await disabledEvents(refId);
    expect(events).toHaveLength(1);
    expect(events[0]?.keyHint).toBe(
      (await env.server.request('GET', `/v1/keys/openai/${refId}`, { key: env.project.skLive })).body.keyHint,
    );
    expect(await outcome(client.models.list())).toBe('409 key_disabled');
  });

  it('a provider 401 for a key that was revoked and connected again meanwhile does not disable the new key', async () => {
    const refId = 'swap_revoke_401';
    await env.connect('openai', refId, 'sk-proj-swapRevokeOld000000000001');
    const client = env.openai(refId);
    const arrived = gate();
    const answer = gate();
    env.mock.intercept({ path: '/models', times: 1 }, async () => {
      arrived.open();
      await answer.promise;
      return REJECTED;
    });
    const first = outcome(client.models.list());
    await arrived.promise;
    const revoked = await env.server.request('POST', '/v1/keys/revoke', { key: env.project.skLive, body: { provider: 'openai', refId } });
    expect(revoked.status).toBe(200);
    await env.connect('openai', refId, 'sk-proj-swapRevokeNew000000000002');
    answer.open();
    expect(await first).toBe('401 invalid_api_key');
    await new Promise((r) => setTimeout(r, 500));
    expect(await keyStatus(refId)).toBe('active');
    expect(await disabledEvents(refId)).toEqual([]);
    expect(await outcome(client.models.list())).toBe('ok');
  });
});

/** Two instances on one PostgreSQL schema: invalidations arrive by LISTEN/NOTIFY. */
describe.skipIf(!usingPostgres)('two instances on the same PostgreSQL', () => {
  let mock: MockUpstream;
  let a: TestServer;
  let b: TestServer;
  let project: TestProject;
  const schema = `t_${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    mock = await startMockUpstream();
    const shared = {
      ...mock.env,
      BYO_DATABASE_SCHEMA: schema,
      BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      BYO_WEBHOOKS: 'false',
    };
    a = await startTestServer(shared);
    b = await startTestServer(shared);
    project = await a.createProject();
  }, 180_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await mock?.close();
    if (usingPostgres) await dropSchema(schema);
  });

  const client = (server: TestServer, refId: string) =>
    new OpenAI({
      apiKey: project.skLive,
      baseURL: `${server.url}/v1/proxy/openai`,
      defaultHeaders: { 'X-BYO-Ref-Id': refId },
      maxRetries: 0,
    });
  const connect = async (server: TestServer, refId: string, providerKey: string) => {
    const res = await server.request('POST', '/v1/keys/connect', { key: project.skLive, body: { provider: 'openai', refId, providerKey } });
    expect(res.status, res.text).toBe(200);
  };
  /** Kills the LISTEN connections of this schema (A's and B's); they reconnect after 500 ms. */
  const killListenConnections = async (): Promise<number> => {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and query like $1`,
        [`LISTEN "%${schema}"`],
      );
      return rowCount ?? 0;
    } finally {
      await admin.end();
    }
  };
  const revoke = async (server: TestServer, refId: string) => {
    const res = await server.request('POST', '/v1/keys/revoke', { key: project.skLive, body: { provider: 'openai', refId } });
    expect(res.status, res.text).toBe(200);
  };

  it('a load on A that read the row before B revoked the key does not cache it on A', async () => {
    await connect(a, 'remote_revoke', 'sk-proj-remoteRevoke000000000001');
    const notified = gate();
    const id = keyCacheId(project.id, 'live', 'openai', 'remote_revoke');
    // Registered after A's cache: called after the cache has handled the same notification.
    await a.app.services.storage.listen(KEYS_CHANNEL, (p) => {
      if (p === id) notified.open();
    });
    const hold = holdNextKeyLoad(a.app.services);
    const first = outcome(client(a, 'remote_revoke').models.list());
    await hold.reached;
    await revoke(b, 'remote_revoke');
    await notified.promise; // A has seen the invalidation; its load is still running
    const during = outcome(client(a, 'remote_revoke').models.list());
    await settle();
    hold.release();
    expect(await during).toBe('409 key_revoked');
    expect(await first).toBe('ok');
    expect(await outcome(client(a, 'remote_revoke').models.list())).toBe('409 key_revoked');
  });

  it("an API key revoked on B while A's LISTEN connection was down is refused by A once it listens again", async () => {
    const created = await a.request('POST', `/v1/admin/projects/${project.id}/api-keys`, {
      key: a.adminToken,
      body: { kind: 'sk', mode: 'live' },
    });
    expect(created.status, created.text).toBe(200);
    const sk: string = created.body.key;
    const list = () => a.request('GET', '/v1/keys', { key: sk });
    expect((await list()).status).toBe(200); // cached on A's authenticator (TTL 30 s)
    const down = gate();
    const up = gate();
    await a.app.services.storage.listen(
      AUTH_CHANNEL,
      () => {},
      (listening) => (listening ? up.open() : down.open()),
    );
    await killListenConnections();
    await down.promise;
    const revoked = await b.request('POST', `/v1/admin/api-keys/${created.body.id}/revoke`, { key: b.adminToken });
    expect(revoked.status, revoked.text).toBe(200);
    await up.promise; // A drops every cached API key: it may have missed invalidations
    const after = await list();
    expect(after.status, after.text).toBe(401);
  });

  it("a revoke that A's lost LISTEN connection missed is honoured once A listens again", async () => {
    await connect(a, 'missed', 'sk-proj-missedNotify000000000001');
    expect(await outcome(client(a, 'missed').models.list())).toBe('ok'); // cached on A (TTL 60 s)
    const down = gate();
    const up = gate();
    await a.app.services.storage.listen(
      KEYS_CHANNEL,
      () => {},
      (listening) => (listening ? up.open() : down.open()),
    );
    expect(await killListenConnections()).toBeGreaterThanOrEqual(2);
    await down.promise;
    await revoke(b, 'missed'); // its NOTIFY reaches no one on A (A reconnects 500 ms after the loss)
    await up.promise; // A drops every cached key: it may have missed invalidations
    expect(await outcome(client(a, 'missed').models.list())).toBe('409 key_revoked');

    // Listening again: changes on B reach A's cache by notification again (within a moment).
    const until = async (want: string) => {
      const t0 = Date.now();
      while ((await outcome(client(a, 'missed').models.list())) !== want) {
        expect(Date.now() - t0).toBeLessThan(2000);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await connect(b, 'missed', 'sk-proj-missedNotify000000000002');
    await until('ok');
    expect(mock.last()?.headers.authorization).toBe('Bearer sk-proj-missedNotify000000000002');
    await revoke(b, 'missed');
    await until('409 key_revoked');
  });
});
