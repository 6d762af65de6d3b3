import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestResponse, type TestServer } from '../helpers/server.js';
import { canaryKey, expectNoLeaks } from '../helpers/support.js';

/** Each input rule, and the shape of every error. */

let server: TestServer;
let p: TestProject;
const canaries: string[] = [];
let n = 0;

beforeAll(async () => {
  server = await startTestServer({
    // Operator-allowed hosts are not resolved, so no DNS query leaves the machine.
    BYO_ALLOWED_UPSTREAM_HOSTS: 'llm.internal.test,other.internal.test',
    BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000',
    BYO_RATE_LIMIT_CONNECT_PER_IP: '100000',
  });
  p = await server.createProject({ allowedBaseUrlHosts: ['llm.internal.test'] });
}, 180_000);

afterAll(async () => {
  if (server) {
    await expectNoLeaks(server, canaries);
    await server.close();
  }
}, 180_000);

function secret(): string {
  const k = canaryKey('input');
  canaries.push(k);
  return k;
}

const connect = (body: Record<string, unknown>, key = p.skTest) => server.request('POST', '/v1/keys/connect', { key, body });
const base = () => ({ provider: 'openai', refId: `ref_${++n}`, providerKey: secret() });

/** Every error: stable code, a message, the request id (also in the header), no stack, no secret. */
function expectError(res: TestResponse, status: number, code: string, mustNotContain: string[] = []) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.code).toBe(code);
  expect(typeof res.body.message).toBe('string');
  expect(res.body.message.length).toBeGreaterThan(5);
  expect(res.body.requestId).toMatch(/^req_/);
  expect(res.headers.get('x-byo-request-id')).toBe(res.body.requestId);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  expect(res.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|stack/i);
  for (const s of mustNotContain) expect(res.text).not.toContain(s);
}

describe('refId', () => {
  it('accepts 1 to 256 characters of the documented set, and reads back the same refId', async () => {
    for (const refId of ['a', 'x'.repeat(256), 'Cust_1.a:b@c+d-e', '0123456789']) {
      const res = await connect({ ...base(), refId });
      expect(res.status, `${refId}: ${res.text}`).toBe(200);
      expect(res.body.refId).toBe(refId);
      const got = await server.request('GET', `/v1/keys/openai/${encodeURIComponent(refId)}`, { key: p.skTest });
      expect(got.status, got.text).toBe(200);
      expect(got.body.refId).toBe(refId);
    }
  });

  it('refuses empty, too long, or characters outside the set', async () => {
    for (const refId of ['', 'x'.repeat(257), 'a b', 'a/b', 'a\\b', 'é', '<script>', 'a\nb', 'a%2Fb', 'a?b', 'a#b', "a'b", 'a"b', 12]) {
      const key = secret();
      const res = await connect({ provider: 'openai', refId, providerKey: key });
      expectError(res, 400, 'validation_failed', [key]);
      expect(res.body.message).toMatch(/refId/);
    }
  });

  it('refuses a bad refId in a path or a query too', async () => {
    expectError(await server.request('GET', `/v1/keys/openai/${'x'.repeat(257)}`, { key: p.skTest }), 400, 'validation_failed');
    expectError(await server.request('GET', '/v1/keys/openai/a%20b', { key: p.skTest }), 400, 'validation_failed');
    expectError(await server.request('GET', '/v1/keys?refId=a%20b', { key: p.skTest }), 400, 'validation_failed');
  });
});

describe('provider', () => {
  it('is one of the registry providers', async () => {
    for (const provider of ['openai', 'anthropic', 'google']) {
      expect((await connect({ ...base(), provider })).status).toBe(200);
    }
    for (const provider of ['OpenAI', 'azure-openai', '', 'openai ', null, 1]) {
      const res = await connect({ ...base(), provider });
      expectError(res, 400, 'validation_failed');
      expect(res.body.message).toMatch(/provider/);
    }
    expectError(await server.request('GET', '/v1/keys/nosuch/ref_1', { key: p.skTest }), 400, 'validation_failed');
    expectError(await server.request('GET', '/v1/keys?provider=nosuch', { key: p.skTest }), 400, 'validation_failed');
  });
});

describe('providerKey', () => {
  it('accepts 8 to 4096 printable characters', async () => {
    for (const providerKey of ['sk-12345', `sk-${'a'.repeat(4093)}`, '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']) {
      const res = await connect({ ...base(), providerKey });
      expect(res.status, res.text.slice(0, 200)).toBe(200);
    }
  });

  it('refuses short, long, whitespace and non-printable keys, without echoing them', async () => {
    const tail = secret().slice(-20);
    const bad = [
      'sk-1234',
      `sk-${'a'.repeat(4094)}`,
      `sk-with space-${tail}`,
      `sk-tab\t${tail}`,
      `sk-newline\n${tail}`,
      ` sk-leading-${tail}`,
      `sk-trailing-${tail} `,
      `sk-nul\u0000${tail}`,
      `sk-del\u007f${tail}`,
      `sk-unicode-é-${tail}`,
      `sk-nbsp\u00a0${tail}`,
    ];
    for (const providerKey of bad) {
      const res = await connect({ ...base(), providerKey });
      expectError(res, 400, 'validation_failed', [tail, providerKey.slice(0, 12)]);
      expect(res.body.message).toMatch(/providerKey/);
    }
    for (const providerKey of [12345678, null, ['sk-12345678'], { k: 'sk-12345678' }]) {
      expectError(await connect({ ...base(), providerKey }), 400, 'validation_failed');
    }
    expectError(await connect({ provider: 'openai', refId: 'no_key' }), 400, 'validation_failed');
  });
});

describe('providerConfig.baseUrl', () => {
  it('accepts an absolute https URL and stores it canonically', async () => {
    const res = await connect({ ...base(), providerConfig: { baseUrl: 'https://llm.internal.test/v1/' } });
    expect(res.status, res.text).toBe(200);
    const got = await server.request('GET', `/v1/keys/openai/${res.body.refId}`, { key: p.skTest });
    expect(got.body.baseUrl).toBe('https://llm.internal.test/v1');
  });

  it('refuses relative, non-http(s), credentialed, fragment and malformed URLs', async () => {
    for (const baseUrl of [
      '/v1',
      'llm.internal.test/v1',
      'ftp://llm.internal.test/v1',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@llm.internal.test/v1',
      'https://llm.internal.test/v1#frag',
      'https://',
      `https://llm.internal.test/${'a'.repeat(2100)}`,
      '',
    ]) {
      const res = await connect({ ...base(), providerConfig: { baseUrl } });
      expect(res.status, `${baseUrl}: ${res.text}`).toBe(400);
      expect(['validation_failed', 'invalid_base_url']).toContain(res.body.code);
      expect(res.text).not.toContain('pass@');
    }
  });

  it('refuses plain http unless the operator allows the host or http', async () => {
    const res = await connect({ ...base(), providerConfig: { baseUrl: 'http://public.example.test/v1' } });
    expectError(res, 400, 'invalid_base_url');
    expect(res.body.message).toMatch(/https/);
    // An operator-allowed host (BYO_ALLOWED_UPSTREAM_HOSTS) may use http.
    const ok = await connect({ ...base(), providerConfig: { baseUrl: 'http://llm.internal.test/v1' } });
    expect(ok.status, ok.text).toBe(200);
  });

  it('refuses loopback, private and metadata addresses (checked without a connection)', async () => {
    for (const baseUrl of [
      'https://127.0.0.1/v1',
      'https://localhost/v1',
      'https://10.0.0.1/v1',
      'https://169.254.169.254/latest',
      'https://[::1]/v1',
      'https://192.168.1.1/v1',
    ]) {
      const res = await connect({ ...base(), providerConfig: { baseUrl } });
      expectError(res, 400, 'invalid_base_url');
    }
  });

  it('is only for provider openai (OpenAI-compatible servers)', async () => {
    const res = await connect({ ...base(), provider: 'anthropic', providerConfig: { baseUrl: 'https://llm.internal.test' } });
    expectError(res, 400, 'invalid_base_url');
  });
});

describe('unknown fields', () => {
  it('are refused at the top level and inside providerConfig, naming the field', async () => {
    const top = await connect({ ...base(), apiKey: 'x' });
    expectError(top, 400, 'validation_failed');
    expect(top.body.message).toMatch(/apiKey/);
    const nested = await connect({ ...base(), providerConfig: { baseUrl: 'https://llm.internal.test/v1', headers: {} } });
    expectError(nested, 400, 'validation_failed');
    expect(nested.body.message).toMatch(/headers/);
    expectError(
      await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body: { refId: 'r', ttl: 5 } }),
      400,
      'validation_failed',
    );
    expectError(
      await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId: 'r', force: true } }),
      400,
      'validation_failed',
    );
    expectError(await server.request('GET', '/v1/keys?color=red', { key: p.skTest }), 400, 'validation_failed');
    expectError(
      await server.request('POST', '/v1/admin/projects', { key: server.adminToken, body: { name: 'x', owner: 'me' } }),
      400,
      'validation_failed',
    );
  });
});

describe('body size and format', () => {
  const big = (bytes: number) => ({ ...base(), providerKey: `sk-${'a'.repeat(100)}`, pad: 'x'.repeat(bytes) });

  it('management bodies over 64 KiB get 413, with a pk, an sk or the admin token', async () => {
    const body = JSON.stringify(big(65 * 1024));
    expectError(await server.request('POST', '/v1/keys/connect', { key: p.pkTest, body }), 413, 'payload_too_large');
    expectError(await server.request('POST', '/v1/keys/connect', { key: p.skTest, body }), 413, 'payload_too_large');
    expectError(await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body }), 413, 'payload_too_large');
    expectError(await server.request('POST', '/v1/admin/projects', { key: server.adminToken, body }), 413, 'payload_too_large');
    expectError(await server.request('POST', '/trpc/keys.connect', { key: p.pkTest, body }), 413, 'payload_too_large');
  });

  it('a 1 MB body is refused without being read, and before authentication', async () => {
    const res = await server.request('POST', '/v1/keys/connect', { body: JSON.stringify(big(1024 * 1024)) });
    expectError(res, 413, 'payload_too_large');
  });

  it('a body just under 64 KiB is parsed (and then refused for its unknown field)', async () => {
    const res = await server.request('POST', '/v1/keys/connect', { key: p.skTest, body: JSON.stringify(big(60 * 1024)) });
    expectError(res, 400, 'validation_failed');
  });

  it('invalid JSON is 400 bad_request, another content type 415', async () => {
    expectError(await server.request('POST', '/v1/keys/connect', { key: p.skTest, body: '{"provider":' }), 400, 'bad_request');
    const form = await server.request('POST', '/v1/keys/connect', {
      key: p.skTest,
      body: 'provider=openai',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 415, 'unsupported_media_type');
    const text = await server.request('POST', '/v1/keys/connect', { key: p.skTest, body: 'x', headers: { 'content-type': 'text/plain' } });
    expectError(text, 415, 'unsupported_media_type');
  });

  it('a JSON body that is not an object is a validation error', async () => {
    for (const body of ['[]', '"x"', '1', 'null']) {
      const res = await server.request('POST', '/v1/keys/connect', { key: p.skTest, body });
      expect(res.status, `${body}: ${res.text}`).toBe(400);
      expect(['validation_failed', 'bad_request']).toContain(res.body.code);
    }
  });
});

describe('errors', () => {
  it('an unknown route is 404 in the same shape', async () => {
    expectError(await server.request('GET', '/v1/nope', { key: p.skTest }), 404, 'not_found');
    expectError(await server.request('GET', '/nope'), 404, 'not_found');
  });

  it('list filters and pagination validate their input', async () => {
    expectError(await server.request('GET', '/v1/keys?limit=0', { key: p.skTest }), 400, 'validation_failed');
    expectError(await server.request('GET', '/v1/keys?limit=101', { key: p.skTest }), 400, 'validation_failed');
    expectError(await server.request('GET', '/v1/keys?status=deleted', { key: p.skTest }), 400, 'validation_failed');
    expectError(await server.request('GET', '/v1/keys?cursor=notacursor', { key: p.skTest }), 400, 'validation_failed');
  });

  it('pages through a list with the cursor, newest first, without repeats', async () => {
    const q = await server.createProject();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await connect({ provider: 'google', refId: `page_${i}`, providerKey: secret() }, q.skTest);
      made.push(res.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: TestResponse = await server.request('GET', `/v1/keys?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { key: q.skTest });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((k: { id: string }) => k.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(made));
    const filtered = await server.request('GET', '/v1/keys?provider=google&status=active&refId=page_3', { key: q.skTest });
    expect(filtered.body.data.map((k: { refId: string }) => k.refId)).toEqual(['page_3']);
  });

  it('a response never carries ciphertext or key material, only the hint', async () => {
    const key = secret();
    const res = await connect({ provider: 'openai', refId: 'meta_only', providerKey: key });
    expect(res.body).toEqual({
      id: expect.stringMatching(/^key_/),
      provider: 'openai',
      refId: 'meta_only',
      status: 'active',
      updated: false,
      keyHint: `sk-...${key.slice(-4)}`,
    });
    const got = await server.request('GET', '/v1/keys/openai/meta_only', { key: p.skTest });
    expect(Object.keys(got.body).sort()).toEqual(
      [
        'baseUrl',
        'createdAt',
        'id',
        'keyHint',
        'lastValidatedAt',
        'lastValidationResult',
        'lastValidation',
        'limits',
        'models',
        'modelsCheckedAt',
        'settings',
        'provider',
        'refId',
        'status',
        'statusReason',
        'updatedAt',
      ].sort(),
    );
  });
});
