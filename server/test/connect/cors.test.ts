import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestResponse, type TestServer } from '../helpers/server.js';
import { canaryKey, expectNoLeaks } from '../helpers/support.js';

/** CORS on the connect route from the project's allowed origins. */

const ALLOWED = 'https://app.example.com';
let server: TestServer;
let p: TestProject;
const canaries: string[] = [];
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000', BYO_RATE_LIMIT_CONNECT_PER_IP: '100000' });
  p = await server.createProject({ allowedOrigins: [ALLOWED, 'http://localhost:5173'] });
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
}, 180_000);

function body() {
  const k = canaryKey('cors');
  canaries.push(k);
  return { provider: 'openai', refId: `cors_${++n}`, providerKey: k };
}

const connectFrom = (origin: string | undefined, key = p.pkLive, path = '/v1/keys/connect') =>
  server.request('POST', path, { key, body: body(), headers: origin === undefined ? {} : { origin } });

function expectNoCredentials(res: TestResponse) {
  expect(res.headers.get('access-control-allow-credentials')).toBeNull();
}

describe('preflight', () => {
  for (const path of ['/v1/keys/connect', '/trpc/keys.connect']) {
    it(`answers OPTIONS ${path}: POST only, the headers connect needs, no credentials`, async () => {
      const res = await server.request('OPTIONS', path, {
        headers: {
          origin: ALLOWED,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/^POST(, OPTIONS)?$/);
      const allowHeaders = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      expect(allowHeaders).toContain('authorization');
      expect(allowHeaders).toContain('content-type');
      expect(res.headers.get('vary')).toMatch(/Origin/i);
      expectNoCredentials(res);
    });
  }

  it('is not offered on secret-key routes', async () => {
    const res = await server.request('OPTIONS', '/v1/keys', {
      headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('connect from a browser origin', () => {
  it('an allowed origin gets exactly its origin back, Vary: Origin and no credentials', async () => {
    for (const origin of [ALLOWED, 'http://localhost:5173']) {
      const res = await connectFrom(origin);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toMatch(/Origin/i);
      expectNoCredentials(res);
    }
  });

  it('also on the tRPC route', async () => {
    const ok = await server.request('POST', '/trpc/keys.connect', { key: p.pkLive, body: body(), headers: { origin: ALLOWED } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const bad = await server.request('POST', '/trpc/keys.connect', {
      key: p.pkLive,
      body: body(),
      headers: { origin: 'https://evil.example.com' },
    });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('near misses get 403 origin_not_allowed, no ACAO, and store nothing', async () => {
    for (const origin of [
      'https://app.example.com.evil.test',
      'https://evilapp.example.com',
      'https://evil.app.example.com',
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://APP.example.com.evil',
      'null',
      'https://app.example.com/',
      `${ALLOWED}, https://evil.test`,
    ]) {
      const b = body();
      const res = await server.request('POST', '/v1/keys/connect', { key: p.pkLive, body: b, headers: { origin } });
      expect(res.status, `${origin}: ${res.text}`).toBe(403);
      expect(res.body.code).toBe('origin_not_allowed');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/Origin/i);
      expectNoCredentials(res);
      expect((await server.request('GET', `/v1/keys/openai/${b.refId}`, { key: p.skLive })).status).toBe(404);
    }
  });

  it('no Origin header (a script with a copied pk) gets 403 origin_not_allowed and stores nothing', async () => {
    for (const [key, path] of [
      [p.pkLive, '/v1/keys/connect'],
      [p.pkTest, '/v1/keys/connect'], // test mode with allowed origins holds to them too
      [p.pkLive, '/trpc/keys.connect'],
    ] as const) {
      const b = body();
      const res = await server.request('POST', path, { key, body: b });
      expect(res.status, res.text).toBe(403);
      expect(res.text).toContain('origin_not_allowed');
      expect(res.text).toContain('use your secret key');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const sk = key === p.pkLive ? p.skLive : p.skTest;
      expect((await server.request('GET', `/v1/keys/openai/${b.refId}`, { key: sk })).status).toBe(404);
    }
  });

  it('the secret key connects from a server without an Origin header', async () => {
    const res = await server.request('POST', '/v1/keys/connect', { key: p.skLive, body: body() });
    expect(res.status, res.text).toBe(200);
  });

  it('in test mode, a project with no allowed origins also takes a connect without Origin (curl in the quickstart)', async () => {
    const q = await server.createProject();
    const res = await connectFrom(undefined, q.pkTest);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const live = await connectFrom(undefined, q.pkLive);
    expect(live.status).toBe(403);
  });

  it('a live project with no allowed origins refuses every browser origin', async () => {
    const q = await server.createProject();
    const res = await connectFrom(ALLOWED, q.pkLive);
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in test mode, a project with no allowed origins accepts any origin (except "null")', async () => {
    const q = await server.createProject();
    for (const origin of ['http://localhost:3001', 'https://anything.example']) {
      const res = await connectFrom(origin, q.pkTest);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const nul = await connectFrom('null', q.pkTest);
    expect(nul.status).toBe(403);
    expect(nul.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in test mode, a project with allowed origins holds to them', async () => {
    const res = await connectFrom('https://other.example', p.pkTest);
    expect(res.status).toBe(403);
    expect((await connectFrom(ALLOWED, p.pkTest)).status).toBe(200);
  });

  it('errors after the origin check stay readable by the allowed origin', async () => {
    const b = body();
    await server.request('POST', '/v1/keys/connect', { key: p.pkLive, body: b, headers: { origin: ALLOWED } });
    const res = await server.request('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { ...b, providerKey: canaryKey('x') },
      headers: { origin: ALLOWED },
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('a 400 for bad input is readable by the allowed origin (a page sees validation_failed, not a network error)', async () => {
    for (const path of ['/v1/keys/connect', '/trpc/keys.connect']) {
      const res = await server.request('POST', path, {
        key: p.pkLive,
        body: { ...body(), limits: [{ metric: 'cost_usd', window: 'week', max: 5 }] },
        headers: { origin: ALLOWED },
      });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('access-control-allow-origin'), path).toBe(ALLOWED);
      expectNoCredentials(res);
    }
    // A refused origin still gets no CORS answer, bad input or not.
    const foreign = await server.request('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { ...body(), limits: 'x' },
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('changing the allowed origins applies at once', async () => {
    const q = await server.createProject({ allowedOrigins: ['https://one.example'] });
    expect((await connectFrom('https://one.example', q.pkLive)).status).toBe(200);
    const patch = await server.request('PATCH', `/v1/admin/projects/${q.id}`, {
      key: server.adminToken,
      body: { allowedOrigins: ['https://two.example'] },
    });
    expect(patch.status).toBe(200);
    expect((await connectFrom('https://one.example', q.pkLive)).status).toBe(403);
    expect((await connectFrom('https://two.example', q.pkLive)).status).toBe(200);
  });

  it('project settings refuse origins that are not scheme://host[:port]', async () => {
    for (const origin of ['app.example.com', 'https://app.example.com/', 'https://app.example.com/path', '*', 'null']) {
      const res = await server.request('PATCH', `/v1/admin/projects/${p.id}`, {
        key: server.adminToken,
        body: { allowedOrigins: [origin] },
      });
      expect(res.status, origin).toBe(400);
    }
  });

  it('no response anywhere carries Access-Control-Allow-Credentials', async () => {
    for (const [method, path, key] of [
      ['GET', '/v1/keys', p.skLive],
      ['GET', '/v1/openapi.json', undefined],
      ['GET', '/healthz', undefined],
      ['GET', '/v1/admin/projects', server.adminToken],
    ] as const) {
      const res = await server.request(method, path, { key, headers: { origin: ALLOWED } });
      expectNoCredentials(res);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
