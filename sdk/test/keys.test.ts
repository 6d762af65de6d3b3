import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BYOK,
  BYOKError,
  ConflictError,
  type KeyMetadata,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  ValidationError,
} from '../src/index.js';
import { startTestServer, type TestProject, type TestServer } from './helpers/server.js';

let server: TestServer;
let project: TestProject;
let byok: BYOK;
beforeAll(async () => {
  server = await startTestServer({ BYO_RATE_LIMIT_CONNECT_PER_KEY: '3' });
  project = await server.createProject();
  byok = new BYOK({ apiKey: project.skTest, baseURL: server.url });
});
afterAll(async () => {
  await server?.close();
});

const catchErr = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as BYOKError,
  );

describe('keys against a real server', () => {
  it('connects, gets, validates and revokes a key', async () => {
    const connected = await byok.keys.connect({ provider: 'openai', refId: 'cust_1', providerKey: 'sk-byo-test-valid' });
    expect(connected).toMatchObject({ provider: 'openai', refId: 'cust_1', status: 'active', updated: false, keyHint: 'sk-...alid' });
    expect(connected.id).toMatch(/^key_/);

    const meta = await byok.keys.get({ provider: 'openai', refId: 'cust_1' });
    expect(meta).toMatchObject({ id: connected.id, status: 'active', keyHint: 'sk-...alid' });

    const v = await byok.keys.validate({ provider: 'openai', refId: 'cust_1' });
    expect(v).toMatchObject({ valid: true, result: 'valid' });

    const revoked = await byok.keys.revoke({ provider: 'openai', refId: 'cust_1' });
    expect(revoked.status).toBe('revoked');
    expect(JSON.stringify(revoked)).not.toContain('sk-byo-test-valid');
  });

  it('replaying a connect with the same Idempotency-Key returns the first result', async () => {
    const params = { provider: 'anthropic' as const, refId: 'idem_1', providerKey: 'sk-byo-test-valid' };
    const a = await byok.keys.connect(params, { idempotencyKey: 'idem-connect-1' });
    const b = await byok.keys.connect(params, { idempotencyKey: 'idem-connect-1' });
    expect(b).toEqual(a);
    expect(b.updated).toBe(false);
    const c = await byok.keys.connect(params);
    expect(c.updated).toBe(true);
    const err = await catchErr(byok.keys.connect({ ...params, refId: 'idem_2' }, { idempotencyKey: 'idem-connect-1' }));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(err).not.toBeInstanceOf(ValidationError);
    expect(err?.statusCode).toBe(422);
    expect(err?.code).toBe('idempotency_conflict');
  });

  it('lists keys page by page with nextCursor, and iterates across pages', async () => {
    for (let i = 0; i < 5; i++) await byok.keys.connect({ provider: 'google', refId: `page_${i}`, providerKey: 'sk-byo-test-valid' });
    const first = await byok.keys.list({ provider: 'google', limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.hasNextPage()).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await first.getNextPage();
    expect(second.data).toHaveLength(2);
    expect(second.data.map((k) => k.refId)).not.toContain(first.data[0]?.refId);

    const all: KeyMetadata[] = [];
    for await (const key of byok.keys.list({ provider: 'google', limit: 2 })) all.push(key);
    expect(all.map((k) => k.refId).sort()).toEqual(['page_0', 'page_1', 'page_2', 'page_3', 'page_4']);

    const sizes: number[] = [];
    for await (const page of byok.keys.list({ provider: 'google', limit: 2 }).pages()) sizes.push(page.data.length);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('creates a connect token that lets the publishable key replace a key', async () => {
    await byok.keys.connect({ provider: 'openai', refId: 'ct_1', providerKey: 'sk-byo-test-valid' });
    const ct = await byok.connectTokens.create({ refId: 'ct_1', providers: ['openai'] });
    expect(ct.token).toMatch(/^byo_ct_/);
    expect(ct.refId).toBe('ct_1');
    const res = await server.request('POST', '/v1/keys/connect', {
      key: project.pkTest,
      body: { provider: 'openai', refId: 'ct_1', providerKey: 'sk-byo-test-valid-2', connectToken: ct.token },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.updated).toBe(true);
  });
});

/** A fetch that swaps the SDK's key for a publishable one (the SDK itself refuses to be built with a pk). */
const asPublishable =
  (pk: string): typeof fetch =>
  (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${pk}`);
    return fetch(input, { ...init, headers });
  };

describe('every REST error class from a real server response', () => {
  it('429 RateLimitError with retryAfter when connects from a publishable key come too fast', async () => {
    const p = await server.createProject();
    const sdk = new BYOK({ apiKey: p.skTest, baseURL: server.url, fetch: asPublishable(p.pkTest), maxRetries: 0 });
    let err: BYOKError | undefined;
    for (let i = 0; i < 6 && !err; i++)
      err = await catchErr(sdk.keys.connect({ provider: 'openai', refId: `rl_${i}`, providerKey: 'sk-byo-test-valid' }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect((err as RateLimitError).retryAfter).toBeGreaterThan(0);
  });

  it('401 AuthenticationError for an unknown key', async () => {
    const bad = new BYOK({ apiKey: 'byo_sk_test_0000000000000000000000000000000000', baseURL: server.url });
    const err = await catchErr(bad.keys.list());
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ statusCode: 401, code: 'unauthorized' });
    expect(err?.requestId).toMatch(/^req_/);
    expect(err?.headers?.get('x-byo-request-id')).toBe(err?.requestId);
  });

  it('404 NotFoundError for a key that was never connected', async () => {
    const err = await catchErr(byok.keys.get({ provider: 'openai', refId: 'nobody' }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err?.code).toBe('key_not_found');
  });

  it('400 ValidationError for bad input, with the issues', async () => {
    const err = await catchErr(byok.keys.connect({ provider: 'openai', refId: 'has spaces', providerKey: 'sk-byo-test-valid' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err?.statusCode).toBe(400);
    expect(err?.code).toBe('validation_failed');
    expect((err as ValidationError).issues?.[0]).toMatchObject({ path: 'refId' });
    expect(err?.message).toMatch(/refId/);
  });

  it('409 ConflictError when validating a revoked key', async () => {
    await byok.keys.connect({ provider: 'openai', refId: 'conf_1', providerKey: 'sk-byo-test-valid' });
    await byok.keys.revoke({ provider: 'openai', refId: 'conf_1' });
    const err = await catchErr(byok.keys.validate({ provider: 'openai', refId: 'conf_1' }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err?.code).toBe('key_revoked');
  });

  it('422 UnprocessableEntityError (a BYOKError, not a ValidationError) when the provider rejects the key on connect', async () => {
    const strict = await server.createProject({ validateOnConnect: true });
    const sdk = new BYOK({ apiKey: strict.skTest, baseURL: server.url });
    const err = await catchErr(sdk.keys.connect({ provider: 'openai', refId: 'inv_1', providerKey: 'sk-byo-test-invalid' }));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(err).toBeInstanceOf(BYOKError);
    expect(err).not.toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ name: 'UnprocessableEntityError', statusCode: 422, code: 'key_invalid' });
  });

  it('keys.validate sends no Idempotency-Key (BYO ignores one there); connect and revoke do', async () => {
    const sent: { path: string; idempotencyKey: string | null }[] = [];
    const capture = new BYOK({
      apiKey: project.skTest,
      baseURL: server.url,
      fetch: (input, init) => {
        sent.push({ path: new URL(String(input)).pathname, idempotencyKey: new Headers(init?.headers).get('idempotency-key') });
        return fetch(input, init);
      },
    });
    const ref = { provider: 'openai' as const, refId: 'idem_validate' };
    await capture.keys.connect({ ...ref, providerKey: 'sk-byo-test-valid' });
    await capture.keys.validate(ref, { idempotencyKey: 'ignored-by-validate' });
    await capture.keys.revoke(ref);
    expect(sent.map((s) => s.path)).toEqual(['/v1/keys/connect', '/v1/keys/validate', '/v1/keys/revoke']);
    expect(sent[0]?.idempotencyKey).toBeTruthy();
    expect(sent[1]?.idempotencyKey).toBeNull();
    expect(sent[2]?.idempotencyKey).toBeTruthy();
  });

  it('403 PermissionDeniedError when a publishable key lists keys', async () => {
    const res = await server.request('GET', '/v1/keys', { key: project.pkTest });
    expect(res.status).toBe(403);
    const asPk = new BYOK({ apiKey: project.skTest, baseURL: server.url, fetch: asPublishable(project.pkTest) });
    const err = await catchErr(asPk.keys.list());
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err?.code).toBe('permission_denied');
  });
});
