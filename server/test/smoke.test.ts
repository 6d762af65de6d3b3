import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, 180_000);
afterAll(async () => {
  await server?.close();
});

describe('smoke', () => {
  it('connects, lists, revokes', async () => {
    const p = await server.createProject();
    const c = await server.request('POST', '/v1/keys/connect', {
      key: p.pkTest,
      body: { provider: 'openai', refId: 'cust_1', providerKey: 'sk-byo-test-valid' },
    });
    expect(c.status, c.text).toBe(200);
    expect(c.body).toMatchObject({ provider: 'openai', refId: 'cust_1', status: 'active', updated: false, keyHint: 'sk-...alid' });
    const l = await server.request('GET', '/v1/keys', { key: p.skTest });
    expect(l.status, l.text).toBe(200);
    expect(l.body.data).toHaveLength(1);
    const v = await server.request('POST', '/v1/keys/validate', { key: p.skTest, body: { provider: 'openai', refId: 'cust_1' } });
    expect(v.body, v.text).toMatchObject({ valid: true, result: 'valid' });
    const r = await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'cust_1' } });
    expect(r.body.status, r.text + server.logs.filter((l) => l.includes('"level":50')).join('')).toBe('revoked');
    const bad = await server.request('GET', '/v1/keys', { key: p.pkTest });
    expect(bad.status).toBe(403);
    expect(bad.body.code).toBe('permission_denied');
    expect(bad.headers.get('x-byo-request-id')).toBe(bad.body.requestId);
  });
});
