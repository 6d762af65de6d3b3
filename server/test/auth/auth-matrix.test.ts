import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-format.js';
import { startTestServer, type TestProject, type TestResponse, type TestServer } from '../helpers/server.js';
import { canaryKey, expectNoLeaks, keyWindows, waitFor, withoutRequestId } from '../helpers/support.js';

/**
 * The authorization matrix: every kind of credential against every REST
 * route listed in GET /v1/openapi.json, so routes added later are covered automatically.
 */

type Cred =
  | 'none'
  | 'malformed'
  | 'badChecksum'
  | 'unknown'
  | 'pkTest'
  | 'pkLive'
  | 'skTest'
  | 'skLive'
  | 'revokedSk'
  | 'expiredSk'
  | 'admin';
type Family = 'browser' | 'secret' | 'admin';
/** `allowed`: authorization passed (the route may still answer 400/404/409/422, never 401/403/5xx). */
type Expect = 'allowed' | { status: number; code: string };

const UNAUTHORIZED = { status: 401, code: 'unauthorized' };
const EXPIRED = { status: 401, code: 'api_key_expired' };
const DENIED = { status: 403, code: 'permission_denied' };

const EXPECTED: Record<Family, Record<Cred, Expect>> = {
  browser: {
    none: UNAUTHORIZED,
    malformed: UNAUTHORIZED,
    badChecksum: UNAUTHORIZED,
    unknown: UNAUTHORIZED,
    revokedSk: UNAUTHORIZED,
    expiredSk: EXPIRED,
    pkTest: 'allowed',
    pkLive: 'allowed',
    skTest: 'allowed',
    skLive: 'allowed',
    admin: DENIED,
  },
  secret: {
    none: UNAUTHORIZED,
    malformed: UNAUTHORIZED,
    badChecksum: UNAUTHORIZED,
    unknown: UNAUTHORIZED,
    revokedSk: UNAUTHORIZED,
    expiredSk: EXPIRED,
    pkTest: DENIED,
    pkLive: DENIED,
    skTest: 'allowed',
    skLive: 'allowed',
    admin: DENIED,
  },
  admin: {
    none: UNAUTHORIZED,
    malformed: UNAUTHORIZED,
    badChecksum: UNAUTHORIZED,
    unknown: UNAUTHORIZED,
    revokedSk: UNAUTHORIZED,
    expiredSk: EXPIRED,
    pkTest: DENIED,
    pkLive: DENIED,
    skTest: DENIED,
    skLive: DENIED,
    admin: 'allowed',
  },
};

/** Routes in the OpenAPI document that need no credential at all (none today). */
const PUBLIC_ROUTES = new Set<string>();

function familyOf(path: string): Family {
  // The connect call, and the provider catalog a connect form renders from.
  if (path === '/keys/connect' || path === '/providers') return 'browser';
  if (path.startsWith('/admin/')) return 'admin';
  return 'secret';
}

const APP = 'https://app.example.com';
let server: TestServer;
let a: TestProject;
let b: TestProject;
const creds = {} as Record<Cred, string | undefined>;
const canaries: string[] = [];
let routes: { method: string; path: string }[] = [];

async function adminCall(method: string, path: string, body?: unknown): Promise<TestResponse> {
  const res = await server.request(method, path, { key: server.adminToken, body });
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
  return res;
}

beforeAll(async () => {
  server = await startTestServer({ BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000', BYO_RATE_LIMIT_CONNECT_PER_IP: '100000' });
  a = await server.createProject({ name: 'A', allowedOrigins: [APP] });
  b = await server.createProject({ name: 'B', allowedOrigins: [APP] });

  const revoked = (await adminCall('POST', `/v1/admin/projects/${a.id}/api-keys`, { kind: 'sk', mode: 'test' })).body;
  await adminCall('POST', `/v1/admin/api-keys/${revoked.id}/revoke`);
  const toExpire = (await adminCall('POST', `/v1/admin/projects/${a.id}/api-keys`, { kind: 'sk', mode: 'test' })).body;
  // It works before the roll, so the auth cache holds it when it expires.
  expect((await server.request('GET', '/v1/keys', { key: toExpire.key })).status).toBe(200);
  await adminCall('POST', `/v1/admin/api-keys/${toExpire.id}/roll`, { expiresInSeconds: 1 });

  const real = a.skTest;
  const last = real.at(-1) as string;
  Object.assign(creds, {
    none: undefined,
    malformed: 'byo_sk_test_thisisnotakey',
    badChecksum: real.slice(0, -1) + (last === 'a' ? 'b' : 'a'),
    unknown: generateApiKey('sk', 'test'),
    pkTest: a.pkTest,
    pkLive: a.pkLive,
    skTest: a.skTest,
    skLive: a.skLive,
    revokedSk: revoked.key,
    expiredSk: toExpire.key,
    admin: server.adminToken,
  } satisfies Record<Cred, string | undefined>);
  await waitFor(async () => (await server.request('GET', '/v1/keys', { key: toExpire.key })).status === 401, 5000);

  const doc = await server.request('GET', '/v1/openapi.json');
  expect(doc.status).toBe(200);
  for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) routes.push({ method: method.toUpperCase(), path });
  }
  routes = routes.filter((r) => !PUBLIC_ROUTES.has(`${r.method} ${r.path}`));
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
}, 180_000);

/** A request that would succeed for an authorized caller, without changing shared state. */
function requestFor(route: { method: string; path: string }): { url: string; body?: unknown } {
  const url = `/v1${route.path}`
    .replace('{provider}', 'openai')
    .replace('{refId}', 'matrix_ref')
    .replace('{projectId}', a.id)
    // api-key ids: a made-up one, so an admin call rolls or revokes nothing real.
    .replace(/\/api-keys\/\{id\}/, '/api-keys/ak_matrix_missing')
    .replace('{id}', a.id)
    .replace(/\{[^}]+\}/g, 'matrix_missing');
  const key = `${route.method} ${route.path}`;
  const bodies: Record<string, unknown> = {
    'POST /keys/connect': { provider: 'openai', refId: `matrix_${canaries.length}`, providerKey: nextCanary() },
    'POST /keys/validate': { provider: 'openai', refId: 'matrix_ref' },
    'POST /keys/revoke': { provider: 'openai', refId: 'matrix_ref' },
    'POST /connect-tokens': { refId: 'matrix_ref' },
    'POST /admin/projects': { name: 'matrix' },
    'PATCH /admin/projects/{id}': { name: 'A' },
    'POST /admin/projects/{projectId}/api-keys': { kind: 'pk', mode: 'test' },
    'POST /admin/api-keys/{id}/roll': { expiresInSeconds: 60 },
  };
  if (route.method === 'GET' || route.method === 'DELETE') return { url };
  return { url, body: bodies[key] ?? {} };
}

function nextCanary(): string {
  const c = canaryKey('matrix');
  canaries.push(c);
  return c;
}

describe('authorization matrix over every REST route', () => {
  it('lists the core routes in the OpenAPI document', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const r of [
      'POST /keys/connect',
      'POST /keys/validate',
      'POST /keys/revoke',
      'GET /keys',
      'GET /keys/{provider}/{refId}',
      'POST /connect-tokens',
      'POST /admin/projects',
      'GET /admin/projects',
      'PATCH /admin/projects/{id}',
      'POST /admin/api-keys/{id}/roll',
      'POST /admin/api-keys/{id}/revoke',
    ])
      expect(names).toContain(r);
  });

  it('gives each credential the expected answer on each route', async () => {
    const failures: string[] = [];
    const unauthorizedBodies: unknown[] = [];
    for (const route of routes) {
      const family = familyOf(route.path);
      for (const cred of Object.keys(EXPECTED[family]) as Cred[]) {
        const { url, body } = requestFor(route);
        const presented = creds[cred];
        // Publishable-key connects come from a browser on an allowed origin.
        const headers: Record<string, string> = url.endsWith('/keys/connect') ? { origin: APP } : {};
        const res = await server.request(route.method, url, { key: presented, body, headers });
        const want = EXPECTED[family][cred];
        const where = `${cred} ${route.method} ${route.path} -> ${res.status} ${res.text.slice(0, 200)}`;
        if (res.status >= 500) failures.push(`server error: ${where}`);
        if (want === 'allowed') {
          if (res.status === 401 || res.status === 403) failures.push(`expected allowed: ${where}`);
        } else if (res.status !== want.status || res.body?.code !== want.code) {
          failures.push(`expected ${want.status} ${want.code}: ${where}`);
        }
        if (res.status >= 400) {
          // Every error: { code, message, requestId }, the request id also in the header.
          if (typeof res.body?.code !== 'string' || typeof res.body?.message !== 'string') failures.push(`error shape: ${where}`);
          if (res.body?.requestId !== res.headers.get('x-byo-request-id')) failures.push(`request id: ${where}`);
          if (res.text.includes('    at ')) failures.push(`stack trace: ${where}`);
        }
        if (presented) {
          const text = res.text.replace(String(res.body?.requestId ?? '\u0000'), '');
          const echoed = keyWindows(presented).filter((w) => text.includes(w));
          if (echoed.length) failures.push(`echoes the key: ${where}`);
        }
        if (want !== 'allowed' && want.code === 'unauthorized') unauthorizedBodies.push(withoutRequestId(res.body));
      }
    }
    expect(failures).toEqual([]);
    // No key, malformed, bad checksum, unknown, revoked: the same body everywhere.
    expect(unauthorizedBodies.length).toBeGreaterThan(routes.length * 4);
    expect(new Set(unauthorizedBodies.map((x) => JSON.stringify(x))).size).toBe(1);
  });

  it('gives an unknown admin-looking token the same 401 as a bad key', async () => {
    const bad = await server.request('GET', '/v1/admin/projects', { key: `${server.adminToken}x` });
    const none = await server.request('GET', '/v1/admin/projects');
    expect(bad.status).toBe(401);
    expect(withoutRequestId(bad.body)).toEqual(withoutRequestId(none.body));
  });

  it('reads the key from x-api-key too, with the same rules', async () => {
    const ok = await server.request('GET', '/v1/keys', { headers: { 'x-api-key': a.skTest } });
    expect(ok.status).toBe(200);
    const bad = await server.request('GET', '/v1/keys', { headers: { 'x-api-key': creds.badChecksum as string } });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('unauthorized');
  });
});

describe('a bad checksum is refused before any database query', () => {
  it('runs no query for a mistyped key, a lookup for a well-formed unknown key', async () => {
    const stats = server.app.services.storage.stats;
    // Background workers (webhook dispatcher, usage writer) may query at any time, so each
    // request is measured a few times: a mistyped key must run none in at least one of them,
    // a looked-up key runs one every time.
    const queriesDuring = async (key: string) => {
      const deltas: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = stats.queries;
        const res = await server.request('GET', '/v1/keys', { key });
        expect(res.status).toBe(401);
        deltas.push(stats.queries - before);
      }
      return deltas;
    };
    for (const key of [creds.badChecksum as string, 'byo_sk_live_x', `${a.skLive}0`, a.skLive.replace('_live_', '_test_')]) {
      expect(Math.min(...(await queriesDuring(key))), key).toBe(0);
    }
    expect(Math.min(...(await queriesDuring(generateApiKey('sk', 'live'))))).toBeGreaterThan(0);
  });

  it('refuses a stored hash presented as the key', async () => {
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(a.skTest).digest('hex');
    const res = await server.request('GET', '/v1/keys', { key: hash });
    expect(res.status).toBe(401);
  });
});

describe('test and live are separate namespaces', () => {
  it('a key stored in test mode is invisible to live keys, and the reverse', async () => {
    const testKey = nextCanary();
    const liveKey = nextCanary();
    const c1 = await server.request('POST', '/v1/keys/connect', {
      key: a.pkTest,
      headers: { origin: APP },
      body: { provider: 'openai', refId: 'iso_1', providerKey: testKey },
    });
    expect(c1.status, c1.text).toBe(200);
    expect((await server.request('GET', '/v1/keys/openai/iso_1', { key: a.skLive })).status).toBe(404);
    const liveList = await server.request('GET', '/v1/keys?refId=iso_1', { key: a.skLive });
    expect(liveList.body.data).toEqual([]);
    const testList = await server.request('GET', '/v1/keys?refId=iso_1', { key: a.skTest });
    expect(testList.body.data).toHaveLength(1);
    expect((await server.request('POST', '/v1/keys/revoke', { key: a.skLive, body: { provider: 'openai', refId: 'iso_1' } })).status).toBe(
      404,
    );
    expect(
      (await server.request('POST', '/v1/keys/validate', { key: a.skLive, body: { provider: 'openai', refId: 'iso_1' } })).status,
    ).toBe(404);

    // A live pk makes a first connection for the same refId: a separate key, not a replacement.
    const c2 = await server.request('POST', '/v1/keys/connect', {
      key: a.pkLive,
      headers: { origin: APP },
      body: { provider: 'openai', refId: 'iso_1', providerKey: liveKey },
    });
    expect(c2.status, c2.text).toBe(200);
    expect(c2.body.updated).toBe(false);
    expect(c2.body.id).not.toBe(c1.body.id);
    const t = await server.request('GET', '/v1/keys/openai/iso_1', { key: a.skTest });
    expect(t.body.id).toBe(c1.body.id);
    expect(t.body.status).toBe('active');
  });

  it('a connect token minted in test mode does not work with the live pk', async () => {
    const tok = await server.request('POST', '/v1/connect-tokens', { key: a.skTest, body: { refId: 'iso_2' } });
    expect(tok.status, tok.text).toBe(200);
    const res = await server.request('POST', '/v1/keys/connect', {
      key: a.pkLive,
      headers: { origin: APP },
      body: { provider: 'openai', refId: 'iso_2', providerKey: nextCanary(), connectToken: tok.body.token },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('connect_token_invalid');
  });
});

describe('project A cannot read or change project B', () => {
  it('B sees none of A; A cannot revoke, validate or replace B', async () => {
    const bKey = nextCanary();
    const c = await server.request('POST', '/v1/keys/connect', {
      key: b.skTest,
      body: { provider: 'anthropic', refId: 'shared_ref', providerKey: bKey },
    });
    expect(c.status, c.text).toBe(200);

    expect((await server.request('GET', '/v1/keys/anthropic/shared_ref', { key: a.skTest })).status).toBe(404);
    const aList = await server.request('GET', '/v1/keys?refId=shared_ref', { key: a.skTest });
    expect(aList.body.data).toEqual([]);
    const aAll = await server.request('GET', '/v1/keys?limit=100', { key: a.skTest });
    expect(aAll.body.data.map((k: { id: string }) => k.id)).not.toContain(c.body.id);
    for (const path of ['/v1/keys/revoke', '/v1/keys/validate']) {
      const r = await server.request('POST', path, { key: a.skTest, body: { provider: 'anthropic', refId: 'shared_ref' } });
      expect(r.status, path).toBe(404);
    }
    // A's connect on the same refId creates A's own key; B's is untouched.
    const aKey = nextCanary();
    const ac = await server.request('POST', '/v1/keys/connect', {
      key: a.skTest,
      body: { provider: 'anthropic', refId: 'shared_ref', providerKey: aKey },
    });
    expect(ac.status).toBe(200);
    expect(ac.body.updated).toBe(false);
    const bView = await server.request('GET', '/v1/keys/anthropic/shared_ref', { key: b.skTest });
    expect(bView.body).toMatchObject({ id: c.body.id, status: 'active', keyHint: `sk-...${bKey.slice(-4)}` });
    expect(bView.body.updatedAt).toBe(bView.body.createdAt);
  });

  it("B's connect token is refused with A's pk", async () => {
    const tok = await server.request('POST', '/v1/connect-tokens', { key: b.skTest, body: { refId: 'x_ref' } });
    const res = await server.request('POST', '/v1/keys/connect', {
      key: a.pkTest,
      headers: { origin: APP },
      body: { provider: 'openai', refId: 'x_ref', providerKey: nextCanary(), connectToken: tok.body.token },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('connect_token_invalid');
  });
});
