import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { canaryKey, expectNoLeaks, findLeaks } from '../helpers/support.js';

/** Every write leaves an audit row (actor, action, target, ip, user agent), never a secret. */

const UA = 'audit-test/1.0 (+https://example.test)';
let server: TestServer;
const APP = 'https://app.example.com';
let p: TestProject;
const secrets: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ BYO_RATE_LIMIT_CONNECT_PER_IP: '1000' });
  p = await server.createProject({ name: 'Audited', allowedOrigins: [APP] });
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, secrets);
    await server.close();
  }
}, 180_000);

interface AuditRow {
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  user_agent: string | null;
  project_id: string | null;
  mode: string | null;
  metadata: Record<string, unknown>;
}

async function auditRows(): Promise<AuditRow[]> {
  return (await server.app.services.db
    .selectFrom('audit_log')
    .select(['actor', 'action', 'target', 'ip', 'user_agent', 'project_id', 'mode', 'metadata'])
    .orderBy('id', 'asc')
    .execute()) as AuditRow[];
}

/** Runs a write and returns the audit rows it added. */
async function audited(fn: () => Promise<{ status: number; text: string }>, status = 200): Promise<AuditRow[]> {
  const before = (await auditRows()).length;
  const res = await fn();
  expect(res.status, res.text).toBe(status);
  return (await auditRows()).slice(before);
}

// From the project's allowed origin, as a browser sends publishable-key connects.
const call = (method: string, path: string, key: string, body?: unknown) =>
  server.request(method, path, { key, body, headers: { 'user-agent': UA, 'x-forwarded-for': '203.0.113.9', origin: APP } });

function secret(): string {
  const k = canaryKey('audit');
  secrets.push(k);
  return k;
}

function keyIdOf(key: string): string {
  const k = p.keys.find((x) => x.key === key);
  if (!k) throw new Error('unknown key');
  return k.id;
}

describe('audit rows', () => {
  it('connect (pk and sk), replace, revoke: actor, action, target, ip and user agent', async () => {
    const [first] = await audited(() =>
      call('POST', '/v1/keys/connect', p.pkLive, { provider: 'openai', refId: 'aud_1', providerKey: secret() }),
    );
    expect(first).toMatchObject({
      actor: `api_key:${keyIdOf(p.pkLive)}`,
      action: 'key.connected',
      target: expect.stringMatching(/^key_/),
      ip: '127.0.0.1', // X-Forwarded-For is not trusted by default
      user_agent: UA,
      project_id: p.id,
      mode: 'live',
    });
    expect(first?.metadata).toMatchObject({ provider: 'openai', refId: 'aud_1', via: 'publishable', connectToken: false });

    const [replaced] = await audited(() =>
      call('POST', '/v1/keys/connect', p.skLive, { provider: 'openai', refId: 'aud_1', providerKey: secret() }),
    );
    expect(replaced).toMatchObject({ actor: `api_key:${keyIdOf(p.skLive)}`, action: 'key.replaced', target: first?.target });
    expect(replaced?.metadata).toMatchObject({ via: 'secret' });

    const [revoked] = await audited(() => call('POST', '/v1/keys/revoke', p.skLive, { provider: 'openai', refId: 'aud_1' }));
    expect(revoked).toMatchObject({ action: 'key.revoked', target: first?.target, ip: '127.0.0.1', user_agent: UA });
  });

  it('a connect token and its use', async () => {
    const [created] = await audited(() => call('POST', '/v1/connect-tokens', p.skLive, { refId: 'aud_2' }));
    expect(created).toMatchObject({ action: 'connect_token.created', target: 'aud_2', actor: `api_key:${keyIdOf(p.skLive)}` });
    const tok = (await call('POST', '/v1/connect-tokens', p.skLive, { refId: 'aud_2' })).body.token as string;
    secrets.push(tok);
    const [used] = await audited(() =>
      call('POST', '/v1/keys/connect', p.pkLive, { provider: 'google', refId: 'aud_2', providerKey: secret(), connectToken: tok }),
    );
    expect(used?.metadata).toMatchObject({ via: 'publishable', connectToken: true });
  });

  it('a rejected key (validate on connect, and validate)', async () => {
    const q = await server.createProject({ validateOnConnect: true });
    const rows = await audited(
      () => call('POST', '/v1/keys/connect', q.pkTest, { provider: 'anthropic', refId: 'aud_3', providerKey: 'sk-byo-test-invalid' }),
      422,
    );
    expect(rows).toEqual([expect.objectContaining({ action: 'key.validation_failed', target: 'anthropic:aud_3', user_agent: UA })]);

    await call('POST', '/v1/keys/connect', p.skTest, { provider: 'anthropic', refId: 'aud_4', providerKey: 'sk-byo-test-invalid' });
    const disabled = await audited(() => call('POST', '/v1/keys/validate', p.skTest, { provider: 'anthropic', refId: 'aud_4' }));
    expect(disabled).toEqual([expect.objectContaining({ action: 'key.disabled', project_id: p.id, mode: 'test' })]);
  });

  it('operator writes: project create/update, API key create/roll/revoke', async () => {
    const admin = server.adminToken;
    const [created] = await audited(() => call('POST', '/v1/admin/projects', admin, { name: 'Second' }));
    expect(created).toMatchObject({ actor: 'admin', action: 'project.created', ip: '127.0.0.1', user_agent: UA });
    const projectId = created?.target as string;
    const [updated] = await audited(() => call('PATCH', `/v1/admin/projects/${projectId}`, admin, { validateOnConnect: true }));
    expect(updated).toMatchObject({
      actor: 'admin',
      action: 'project.updated',
      target: projectId,
      metadata: { fields: ['validateOnConnect'] },
    });

    const made = await call('POST', `/v1/admin/projects/${projectId}/api-keys`, admin, { kind: 'sk', mode: 'live' });
    secrets.push(made.body.key.slice(12));
    const [, createdRow] = [null, (await auditRows()).at(-1)];
    expect(createdRow).toMatchObject({ action: 'api_key.created', target: made.body.id, mode: 'live' });
    const [rolled] = await audited(() => call('POST', `/v1/admin/api-keys/${made.body.id}/roll`, admin, { expiresInSeconds: 60 }));
    expect(rolled).toMatchObject({ action: 'api_key.rolled', target: made.body.id, metadata: { expiresInSeconds: 60 } });
    const [revoked] = await audited(() => call('POST', `/v1/admin/api-keys/${made.body.id}/revoke`, admin));
    expect(revoked).toMatchObject({ action: 'api_key.revoked', target: made.body.id });
  });

  it('reads that change nothing write no audit row', async () => {
    const rows = await audited(async () => {
      for (const path of ['/v1/keys', '/v1/keys/google/aud_2']) {
        const r = await call('GET', path, p.skLive);
        if (r.status !== 200) return r;
      }
      return call('GET', '/v1/admin/projects', server.adminToken);
    });
    expect(rows).toEqual([]);
  });

  it('a failed write (refused hijack, bad input) writes no success row', async () => {
    const rows = await audited(
      () => call('POST', '/v1/keys/connect', p.pkLive, { provider: 'google', refId: 'aud_2', providerKey: secret() }),
      409,
    );
    expect(rows.filter((r) => r.action === 'key.connected' || r.action === 'key.replaced')).toEqual([]);
  });

  it('the audit API lists them newest first, filtered, for the operator only', async () => {
    const res = await server.request('GET', `/v1/admin/audit?projectId=${p.id}&action=key.revoked`, { key: server.adminToken });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeGreaterThan(0);
    for (const e of res.body.data) expect(e).toMatchObject({ projectId: p.id, action: 'key.revoked', ip: '127.0.0.1', userAgent: UA });
    expect((await server.request('GET', '/v1/admin/audit', { key: p.skLive })).status).toBe(403);
  });

  it('a long user agent is cut to 512 characters', async () => {
    const before = (await auditRows()).length;
    await server.request('POST', '/v1/connect-tokens', {
      key: p.skLive,
      body: { refId: 'ua' },
      headers: { 'user-agent': 'u'.repeat(5000) },
    });
    const [row] = (await auditRows()).slice(before);
    expect(row?.user_agent).toHaveLength(512);
  });

  it('no audit or event row holds a secret', async () => {
    const rows = await sql<{ r: string }>`select t::text as r from audit_log t union all select e::text from events e`.execute(
      server.app.services.db,
    );
    const text = rows.rows.map((r) => r.r).join('\n');
    expect(findLeaks(text, [...secrets, ...p.keys.map((k) => k.key.slice(12))])).toEqual([]);
    expect(text).not.toMatch(/byo_ct_[0-9A-Za-z]{8}/);
  });
});
