import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * The hosted form's "Spending cap" field as the server renders it (off, preset, refused
 * options), and `GET /connect/embed/models`, the count the form reads after a connect: only for
 * the publishable key's own project and mode, the key's own refId, and a key just connected.
 * The browser side (typing a cap, the count shown) is in web-components/test/form-cap.test.ts.
 */

let server: TestServer;
let project: TestProject;
let other: TestProject;
const APP = 'https://app.example.com';

beforeAll(async () => {
  server = await startTestServer();
  [project, other] = await Promise.all([server.createProject(), server.createProject()]);
});
afterAll(async () => {
  await server?.close();
});

const page = (params: Record<string, string>) =>
  server.request('GET', `/connect/embed?${new URLSearchParams({ pk: project.pkTest, refId: 'c', parentOrigin: APP, ...params })}`);

describe('the Spending cap field', () => {
  it('is offered by default: empty, labelled, per month', async () => {
    const res = await page({});
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('<label for="byo-cap-max">Spending cap <span class="optional">(optional)</span></label>');
    expect(res.text).toMatch(/<input id="byo-cap-max" type="number"(?![^>]*\svalue=)(?![^>]*\sname=)[^>]*>/);
    expect(res.text).toContain('<select id="byo-cap-window" aria-label="Spending cap period">');
    expect(res.text).toContain('<option value="month" selected>per month</option><option value="day">per day</option>');
  });

  it('spendingCap=off leaves it out; an amount and a window preset it', async () => {
    expect((await page({ spendingCap: 'off' })).text).not.toContain('byo-cap-max');
    const preset = await page({ spendingCap: '25.5', spendingCapWindow: 'day' });
    expect(preset.status, preset.text).toBe(200);
    expect(preset.text).toMatch(/<input id="byo-cap-max"[^>]*\svalue="25.5">/);
    expect(preset.text).toContain('<option value="month">per month</option><option value="day" selected>per day</option>');
  });

  it('refuses a spendingCap that is not off or an amount above 0, and a window other than month or day', async () => {
    for (const [params, says] of [
      [{ spendingCap: '0' }, 'Invalid spendingCap: the amount must be above 0.'],
      [{ spendingCap: '-5' }, 'Invalid spendingCap: use off or an amount in USD such as 50.'],
      [{ spendingCap: '"><script>' }, 'Invalid spendingCap'],
      [{ spendingCapWindow: 'hour' }, 'Invalid spendingCapWindow'],
    ] as const) {
      const res = await page(params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.text).toContain(says);
      expect(res.text).not.toContain('<script>');
    }
  });
});

describe('GET /connect/embed/models', () => {
  const connect = async (p: TestProject, refId: string) => {
    const res = await server.request('POST', '/v1/keys/connect', {
      key: p.skTest,
      body: { provider: 'openai', refId, providerKey: 'sk-byo-test-valid' },
    });
    expect(res.status, res.text).toBe(200);
    return res.body.id as string;
  };
  const models = (key: string, keyId: string, refId: string) =>
    server.request('GET', `/connect/embed/models?${new URLSearchParams({ keyId, refId })}`, { key });

  it('answers the count for a key just connected, to its project’s publishable key, without CORS', async () => {
    const keyId = await connect(project, 'models_pk');
    const res = await models(project.pkTest, keyId, 'models_pk');
    expect(res.status, res.text).toBe(200);
    // Scheduled checks are off in this server: nothing will list the key, so nothing is pending.
    expect(res.body).toEqual({ models: null, pending: false });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it("counts the key's listed models, never naming them", async () => {
    const keyId = await connect(project, 'models_listed');
    await server.app.services.db
      .updateTable('provider_keys')
      .set({ models: JSON.stringify(['gpt-4o', 'gpt-4o-mini', 'o3']), models_checked_at: new Date() })
      .where('id', '=', keyId)
      .execute();
    const res = await models(project.pkTest, keyId, 'models_listed');
    expect(res.body).toEqual({ models: 3, pending: false });
    expect(res.text).not.toContain('gpt-4o');
  });

  it("gives nothing for another project's key, another refId, the other mode, or a key connected minutes ago", async () => {
    const keyId = await connect(project, 'models_scope');
    for (const [key, refId] of [
      [other.pkTest, 'models_scope'],
      [project.pkTest, 'models_other'],
      [project.pkLive, 'models_scope'],
    ] as const) {
      const res = await models(key, keyId, refId);
      expect(res.status, `${refId}`).toBe(404);
      expect(res.body.code).toBe('key_not_found');
    }
    await server.app.services.db
      .updateTable('provider_keys')
      .set({ updated_at: new Date(Date.now() - 3 * 60_000) })
      .where('id', '=', keyId)
      .execute();
    expect((await models(project.pkTest, keyId, 'models_scope')).status).toBe(404);
  });

  it('gives nothing for a key revoked since (its revocation does not reopen the window)', async () => {
    const keyId = await connect(project, 'models_revoked');
    expect((await models(project.pkTest, keyId, 'models_revoked')).status).toBe(200);
    const revoked = await server.request('POST', '/v1/keys/revoke', {
      key: project.skTest,
      body: { provider: 'openai', refId: 'models_revoked' },
    });
    expect(revoked.status, revoked.text).toBe(200);
    const res = await models(project.pkTest, keyId, 'models_revoked');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('key_not_found');
  });

  it('refuses a secret key, no key, and a malformed key id', async () => {
    const keyId = await connect(project, 'models_auth');
    const secret = await models(project.skTest, keyId, 'models_auth');
    expect(secret.status).toBe(403);
    expect(secret.body.code).toBe('permission_denied');
    expect((await server.request('GET', `/connect/embed/models?keyId=${keyId}&refId=models_auth`)).status).toBe(403);
    expect((await models('byo_pk_test_notarealkey', keyId, 'models_auth')).status).toBe(401);
    const bad = await models(project.pkTest, 'evt_123', 'models_auth');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
  });
});
