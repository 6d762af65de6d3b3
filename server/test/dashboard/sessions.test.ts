import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';

/**
 * Dashboard sessions over HTTP (the browser tests cover the page): idle expiry, the key behind a
 * session, and, on PostgreSQL, several instances sharing the sessions table.
 */
let server: TestServer;
let project: TestProject;
beforeAll(async () => {
  server = await startTestServer({ BYO_DASHBOARD_IDLE_TIMEOUT: '4s' });
  project = await server.createProject();
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function signIn(base: string, secret: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${base}/trpc/dashboard.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ secret }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0] as string, csrf: body.result.data.csrfToken, setCookie };
}

const session = async (base: string, cookie: string) =>
  (await fetch(`${base}/trpc/dashboard.session`, { headers: { cookie } }).then((r) => r.json())).result.data;
const overview = (base: string, cookie: string) => fetch(`${base}/trpc/dashboard.overview`, { headers: { cookie } });

describe('dashboard sessions', () => {
  it('sets an HttpOnly SameSite=Strict cookie (no Secure over http) and never returns the key', async () => {
    const res = await fetch(`${server.url}/trpc/dashboard.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ secret: project.skTest }),
    });
    const text = await res.text();
    expect(text).not.toContain(project.skTest);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^byo_session=byo_ds_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  });

  it('over https (behind a proxy BYO trusts) the cookie is __Host- and Secure', async () => {
    const https = await startTestServer({ BYO_TRUST_PROXY: 'true' });
    try {
      const p = await https.createProject();
      const res = await fetch(`${https.url}/trpc/dashboard.signIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', origin: https.url.replace(/^http:/, 'https:') },
        body: JSON.stringify({ secret: p.skTest }),
      });
      expect(res.headers.get('set-cookie')).toMatch(/^__Host-byo_session=byo_ds_\S+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    } finally {
      await https.close();
    }
  });

  it('ends after the idle timeout, and a call keeps it alive', async () => {
    const { cookie } = await signIn(server.url, project.skTest);
    // Calls 1 s apart keep it alive past the 4 s idle timeout ...
    for (let i = 0; i < 6; i++) {
      expect((await overview(server.url, cookie)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await overview(server.url, cookie)).status).toBe(200);
    // ... and 5 s without one end it.
    await new Promise((r) => setTimeout(r, 5000));
    const res = await overview(server.url, cookie);
    expect(res.status).toBe(401);
    expect((await res.json()).error.data.code).toBe('session_expired');
    expect(await session(server.url, cookie)).toBeNull();
  });

  it('ends when the secret key behind it is revoked', async () => {
    const created = await server.request('POST', `/v1/admin/projects/${project.id}/api-keys`, {
      key: server.adminToken,
      body: { kind: 'sk', mode: 'test' },
    });
    const { cookie } = await signIn(server.url, created.body.key);
    expect((await overview(server.url, cookie)).status).toBe(200);
    await server.request('POST', `/v1/admin/api-keys/${created.body.id}/revoke`, { key: server.adminToken });
    expect((await overview(server.url, cookie)).status).toBe(401);
  });

  it('an admin session acts on the chosen project; a header admin token cannot', async () => {
    const { cookie } = await signIn(server.url, server.adminToken);
    const headers = { cookie, 'x-byo-project': project.id, 'x-byo-mode': 'test' };
    expect((await fetch(`${server.url}/trpc/dashboard.overview`, { headers })).status).toBe(200);
    expect((await fetch(`${server.url}/trpc/dashboard.overview`, { headers: { cookie } })).status).toBe(403);
    const bearer = { authorization: `Bearer ${server.adminToken}`, 'x-byo-project': project.id, 'x-byo-mode': 'test' };
    expect((await fetch(`${server.url}/trpc/dashboard.overview`, { headers: bearer })).status).toBe(403);
    const unknown = await fetch(`${server.url}/trpc/dashboard.overview`, { headers: { ...headers, 'x-byo-project': 'proj_nope' } });
    expect(unknown.status).toBe(404);
  });

  it('locks an address out after 10 failed sign-ins, even with a right key, and says when to retry', async () => {
    const attempt = (secret: string) =>
      fetch(`${server.url}/trpc/dashboard.signIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ secret }),
      });
    // Successes do not count.
    for (let i = 0; i < 3; i++) expect((await attempt(project.skTest)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await attempt(`byo_sk_test_wrong${i}`)).status).toBe(401);
    const locked = await attempt(project.skTest);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await locked.json()).error.data.code).toBe('rate_limited');
  });

  it.runIf(usingPostgres)(
    'is shared by every instance: signed in on one, used and ended on another; a new admin token ends admin sessions',
    async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const env = { BYO_DATABASE_SCHEMA: schema, BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}` };
      const a = await startTestServer({ ...env, BYO_ADMIN_TOKEN: `admin_${'a'.repeat(30)}` });
      const b = await startTestServer({ ...env, BYO_ADMIN_TOKEN: `admin_${'a'.repeat(30)}` });
      const c = await startTestServer({ ...env, BYO_ADMIN_TOKEN: `admin_${'c'.repeat(30)}` });
      try {
        const p = await a.createProject();
        const key = await signIn(a.url, p.skTest);
        expect((await overview(b.url, key.cookie)).status).toBe(200);
        const out = await fetch(`${b.url}/trpc/dashboard.signOut`, {
          method: 'POST',
          headers: { cookie: key.cookie, 'x-byo-csrf': key.csrf, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(out.status).toBe(200);
        expect((await overview(a.url, key.cookie)).status).toBe(401);

        const admin = await signIn(a.url, a.adminToken);
        expect(await session(b.url, admin.cookie)).toMatchObject({ principal: 'admin' });
        expect(await session(c.url, admin.cookie)).toBeNull();
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
        await dropSchema(schema);
      }
    },
  );
});
