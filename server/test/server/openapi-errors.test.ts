import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/errors.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * The OpenAPI document describes BYO's real error body: every error response of every
 * operation references the one `Error` schema, and real error responses of each status
 * validate against it (and are listed for the operation that returned them).
 */

let server: TestServer;
let project: TestProject;
let doc: any;
let errorSchema: z.ZodType;

beforeAll(async () => {
  server = await startTestServer({ BYO_RATE_LIMIT_CONNECT_PER_KEY: '3' });
  project = await server.createProject();
  const res = await server.request('GET', '/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
  errorSchema = z.fromJSONSchema(doc.components.schemas.Error);
}, 180_000);
afterAll(async () => {
  await server?.close();
});

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** The operation the document lists for a request path (`/v1/webhooks/endpoints/we_1` → `/webhooks/endpoints/{id}`). */
function operationFor(method: string, url: string): any {
  const path = url.replace(/^\/v1/, '').split('?')[0] as string;
  for (const [template, item] of Object.entries<any>(doc.paths)) {
    const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (re.test(path) && item[method.toLowerCase()]) return item[method.toLowerCase()];
  }
  throw new Error(`no operation for ${method} ${url}`);
}

describe('OpenAPI error responses', () => {
  it('has one Error schema, { code, message, requestId, issues? }, with every error code', () => {
    const schema = doc.components.schemas.Error;
    expect(schema.required.sort()).toEqual(['code', 'message', 'requestId']);
    expect(schema.properties.code.enum.sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    expect(Object.keys(doc.components.schemas).filter((n) => n.startsWith('error.'))).toEqual([]);
    // The check itself is strict: a tRPC-shaped body, or one with an unknown field, fails.
    expect(errorSchema.safeParse({ code: 'BAD_REQUEST', message: 'x', requestId: 'req_1' }).success).toBe(false);
    expect(errorSchema.safeParse({ code: 'not_found', message: 'x', requestId: 'req_1', stack: '...' }).success).toBe(false);
    expect(errorSchema.safeParse({ code: 'not_found', message: 'x' }).success).toBe(false);
    expect(errorSchema.safeParse({ code: 'not_found', message: 'x', requestId: 'req_1' }).success).toBe(true);
  });

  it('every error response of every operation references it; the common statuses are listed', () => {
    let count = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const statuses = Object.keys(op.responses).map(Number);
        for (const s of [400, 401, 403, 500, 503]) expect(statuses, `${method} ${path}`).toContain(s);
        if (method !== 'get' && method !== 'delete') for (const s of [413, 415]) expect(statuses, `${method} ${path}`).toContain(s);
        if (path.includes('{')) expect(statuses, `${method} ${path}`).toContain(404);
        for (const s of statuses.filter((n) => n >= 400)) {
          expect(op.responses[s].content['application/json'].schema, `${method} ${path} ${s}`).toEqual(ERROR_REF);
          expect(op.responses[s].description, `${method} ${path} ${s}`).toBeTruthy();
          count++;
        }
        for (const s of [429, 503].filter((n) => statuses.includes(n))) expect(op.responses[s].headers['Retry-After']).toBeDefined();
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  it('real error bodies of each status validate against the Error schema and are listed for their operation', async () => {
    const p = project;
    const big = 'x'.repeat(70 * 1024);
    const cases: { name: string; method: string; url: string; status: number; code: string; opts: Parameters<TestServer['request']>[2] }[] =
      [
        {
          name: 'invalid input',
          method: 'POST',
          url: '/v1/keys/connect',
          status: 400,
          code: 'validation_failed',
          opts: { key: p.skTest, body: { provider: 'openai' } },
        },
        { name: 'bad query', method: 'GET', url: '/v1/keys?limit=0', status: 400, code: 'validation_failed', opts: { key: p.skTest } },
        { name: 'no key', method: 'GET', url: '/v1/webhooks/endpoints', status: 401, code: 'unauthorized', opts: {} },
        {
          name: 'wrong key',
          method: 'GET',
          url: '/v1/keys',
          status: 401,
          code: 'unauthorized',
          opts: { key: `${p.skTest.slice(0, -4)}AAAA` },
        },
        { name: 'publishable key', method: 'GET', url: '/v1/keys', status: 403, code: 'permission_denied', opts: { key: p.pkTest } },
        {
          name: 'admin route with sk',
          method: 'GET',
          url: '/v1/admin/projects',
          status: 403,
          code: 'permission_denied',
          opts: { key: p.skTest },
        },
        {
          name: 'unknown endpoint',
          method: 'GET',
          url: '/v1/webhooks/endpoints/we_nope',
          status: 404,
          code: 'endpoint_not_found',
          opts: { key: p.skTest },
        },
        { name: 'unknown key', method: 'GET', url: '/v1/keys/openai/nobody', status: 404, code: 'key_not_found', opts: { key: p.skTest } },
        {
          name: 'unknown delivery',
          method: 'POST',
          url: '/v1/webhooks/deliveries/wd_nope/redeliver',
          status: 404,
          code: 'delivery_not_found',
          opts: { key: p.skTest, body: {} },
        },
        {
          name: 'revoke unknown key',
          method: 'POST',
          url: '/v1/keys/revoke',
          status: 404,
          code: 'key_not_found',
          opts: { key: p.skTest, body: { provider: 'openai', refId: 'nobody' } },
        },
        {
          name: 'too large',
          method: 'POST',
          url: '/v1/webhooks/endpoints',
          status: 413,
          code: 'payload_too_large',
          opts: { key: p.skTest, body: { url: big } },
        },
        {
          name: 'not JSON',
          method: 'POST',
          url: '/v1/connect-tokens',
          status: 415,
          code: 'unsupported_media_type',
          opts: { key: p.skTest, body: 'refId=x', headers: { 'content-type': 'text/plain' } },
        },
      ];
    for (const c of cases) {
      const res = await server.request(c.method, c.url, c.opts);
      expect(res.status, `${c.name}: ${res.text}`).toBe(c.status);
      expect(res.body.code, c.name).toBe(c.code);
      const parsed = errorSchema.safeParse(res.body);
      expect(parsed.success, `${c.name}: ${res.text} ${parsed.error?.message ?? ''}`).toBe(true);
      expect(res.body.requestId).toBe(res.headers.get('x-byo-request-id'));
      expect(Object.keys(operationFor(c.method, c.url).responses), c.name).toContain(String(c.status));
    }
  });

  it('422 and 429 bodies validate too (with issues where there are any)', async () => {
    const p = project;
    const idem = { 'idempotency-key': 'openapi-errors-1' };
    expect((await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body: { refId: 'a' }, headers: idem })).status).toBe(200);
    const conflict = await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body: { refId: 'b' }, headers: idem });
    const patch = await server.request('PATCH', `/v1/admin/projects/${p.id}`, {
      key: server.adminToken,
      body: { validateOnConnect: true },
    });
    expect(patch.status, patch.text).toBe(200);
    const connect = (key: string) =>
      server.request('POST', '/v1/keys/connect', {
        key,
        body: { provider: 'openai', refId: `c_${Math.random()}`, providerKey: 'sk-byo-test-invalid' },
      });
    const invalid = await connect(p.skTest);
    let limited = await connect(p.pkTest);
    for (let i = 0; i < 5 && limited.status !== 429; i++) limited = await connect(p.pkTest);
    const issues = await server.request('POST', '/v1/webhooks/endpoints', { key: p.skTest, body: { url: 42, events: [] } });

    const checks: [string, typeof conflict, number, string, string][] = [
      ['POST', conflict, 422, 'idempotency_conflict', '/v1/connect-tokens'],
      ['POST', invalid, 422, 'key_invalid', '/v1/keys/connect'],
      ['POST', limited, 429, 'rate_limited', '/v1/keys/connect'],
      ['POST', issues, 400, 'validation_failed', '/v1/webhooks/endpoints'],
    ];
    for (const [method, res, status, code, url] of checks) {
      expect(res.status, res.text).toBe(status);
      expect(res.body.code).toBe(code);
      const parsed = errorSchema.safeParse(res.body);
      expect(parsed.success, `${res.text} ${parsed.error?.message ?? ''}`).toBe(true);
      expect(Object.keys(operationFor(method, url).responses)).toContain(String(status));
    }
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(issues.body.issues.length).toBeGreaterThanOrEqual(1);
  });

  it('every operation honouring Idempotency-Key lists 422 idempotency_conflict and 409 idempotency_in_progress (with Retry-After)', () => {
    const idempotent = [
      '/v1/keys/connect',
      '/v1/keys/revoke',
      '/v1/connect-tokens',
      '/v1/webhooks/endpoints',
      '/v1/webhooks/endpoints/we_1/rotate-secret',
      '/v1/webhooks/deliveries/wd_1/redeliver',
    ];
    for (const url of idempotent) {
      const op = operationFor('POST', url);
      expect(op.responses['422']?.description, url).toContain('idempotency_conflict');
      expect(op.responses['409']?.description, url).not.toContain('idempotency_conflict');
      expect(op.responses['409'].headers['Retry-After'], url).toBeDefined();
    }
  });
});
