import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { installDnsGuard } from '../helpers/dns-guard.js';
import { send } from '../helpers/http.js';

/**
 * Through the public API: ports in a project's allowed hosts, cloud metadata
 * behind operator-allowed host names (at save time and at connect time), IPv4-compatible IPv6,
 * refIds made of dots, and what a customer-controlled upstream may put in a proxied answer.
 */

const answers: Record<string, string> = {};
let dns: ReturnType<typeof installDnsGuard>;
let server: TestServer;
let mock: MockUpstream;
let p: TestProject;

beforeAll(async () => {
  // Installed before the server starts: its connectors resolve through it too.
  dns = installDnsGuard(answers);
  answers['mock.internal.test'] = '127.0.0.1';
  mock = await startMockUpstream();
  server = await startTestServer({
    ...mock.env,
    BYO_ALLOWED_UPSTREAM_HOSTS: 'mock.internal.test,meta.internal.test,rebind.internal.test,llm.internal.test,alt.internal.test:8443',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    BYO_UPSTREAM_CONNECT_TIMEOUT: '2s',
  });
  p = await server.createProject({
    allowedBaseUrlHosts: ['llm.internal.test:443', 'alt.internal.test:8443', 'plain.internal.test', '*.wild.internal.test'],
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await mock?.close();
  dns?.restore();
});

const connect = (key: string, body: Record<string, unknown>) => server.request('POST', '/v1/keys/connect', { key, body });
const withBase = (refId: string, baseUrl: string) => ({
  provider: 'openai',
  refId,
  providerKey: 'sk-proj-ssrf-round2-000000000000000000',
  providerConfig: { baseUrl },
});
const proxy = (refId: string) =>
  fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.skTest}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('a port in allowedBaseUrlHosts', () => {
  it('an entry with a port allows that port only; one without, the default port only', async () => {
    const cases: [string, number][] = [
      ['https://llm.internal.test/v1', 200],
      ['https://llm.internal.test:443/v1', 200],
      ['https://llm.internal.test:6379/v1', 400],
      ['https://alt.internal.test:8443/v1', 200],
      ['https://alt.internal.test/v1', 400],
      ['https://plain.internal.test/v1', 200],
      ['https://plain.internal.test:8443/v1', 400],
      ['https://a.wild.internal.test/v1', 200],
      ['https://a.wild.internal.test:22/v1', 400],
    ];
    for (const [i, [url, status]] of cases.entries()) {
      const res = await connect(p.pkTest, withBase(`port_${i}`, url));
      expect(res.status, `${url}: ${res.text}`).toBe(status);
      if (status === 400) expect(res.body.code).toBe('invalid_base_url');
    }
  });
});

describe('operator-allowed host names never reach a cloud metadata address', () => {
  it('refused when saved, if the name resolves to one', async () => {
    for (const address of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254', '169.254.170.2']) {
      answers['meta.internal.test'] = address;
      const res = await connect(p.skTest, withBase('meta_save', 'https://meta.internal.test/v1'));
      expect(res.status, `${address}: ${res.text}`).toBe(400);
      expect(res.body.code).toBe('invalid_base_url');
      expect(res.body.message).toMatch(/metadata/);
    }
    // The private addresses the operator allowed it for still work.
    answers['meta.internal.test'] = '10.1.2.3';
    expect((await connect(p.skTest, withBase('meta_save', 'https://meta.internal.test/v1'))).status).toBe(200);
  });

  it('refused at connect time, when the name resolves to one only after it was saved (DNS rebinding)', async () => {
    answers['rebind.internal.test'] = '127.0.0.1';
    const saved = await connect(p.skTest, withBase('meta_rebind', `http://rebind.internal.test:${mock.port}/openai/v1`));
    expect(saved.status, saved.text).toBe(200);
    answers['rebind.internal.test'] = '169.254.169.254';
    const seen = mock.requests.length;
    const res = await proxy('meta_rebind');
    const body = await res.text();
    expect(res.status, body).toBe(502);
    expect(body).toMatch(/metadata/);
    expect(mock.requests.length).toBe(seen);
    // The same name, back on the address the operator allowed it for, works again.
    answers['rebind.internal.test'] = '127.0.0.1';
    const ok = await proxy('meta_rebind');
    expect(ok.status, await ok.text()).toBe(200);
  });
});

describe('IPv4 addresses hidden in IPv6', () => {
  it('IPv4-compatible, NAT64 and 6to4 forms of private and loopback addresses are refused', async () => {
    for (const host of [
      '[::127.0.0.1]',
      '[::7f00:1]',
      '[::a00:1]',
      '[::c0a8:101]',
      '[64:ff9b::7f00:1]',
      '[64:ff9b:1::a00:1]',
      '[2002:7f00:1::]',
    ]) {
      const res = await connect(p.skTest, withBase('v6_embed', `https://${host}/v1`));
      expect(res.status, `${host}: ${res.text}`).toBe(400);
      expect(res.body.code).toBe('invalid_base_url');
    }
  });
});

describe('refIds made only of dots', () => {
  it('are refused with 400 validation_failed wherever a refId is taken', async () => {
    for (const refId of ['.', '..', '...']) {
      const c = await connect(p.skTest, { provider: 'openai', refId, providerKey: 'sk-proj-dots-0000000000000000' });
      expect(c.status, c.text).toBe(400);
      expect(c.body.code).toBe('validation_failed');
      const t = await server.request('POST', '/v1/connect-tokens', { key: p.skTest, body: { refId } });
      expect(t.status, t.text).toBe(400);
      const r = await server.request('POST', '/v1/keys/revoke', { key: p.skTest, body: { provider: 'openai', refId } });
      expect(r.status, r.text).toBe(400);
      const l = await server.request('GET', `/v1/keys?refId=${refId}`, { key: p.skTest });
      expect(l.status, l.text).toBe(400);
      const pr = await proxy(refId);
      expect(pr.status).toBe(400);
      expect(await pr.text()).toMatch(/missing_ref_id|not only dots/);
    }
    // Dots inside a refId stay allowed.
    expect((await connect(p.skTest, { provider: 'openai', refId: 'a.b..c', providerKey: 'sk-proj-dots-0000000000000000' })).status).toBe(
      200,
    );
  });

  it('GET /v1/keys/openai/%2e%2e does not list the keys', async () => {
    // Sent as is (fetch and the WHATWG URL parser would resolve `%2e%2e` to `..` first; the SDK
    // refuses such a refId before sending, sdk/test/keys-refid.test.ts).
    for (const path of ['/v1/keys/openai/%2e%2e', '/v1/keys/openai/%2E%2E', '/v1/keys/openai/%2e', '/v1/keys/openai/.%2e']) {
      const res = await send(server.url, { method: 'GET', path, headers: { authorization: `Bearer ${p.skTest}` } });
      expect(res.status, `${path}: ${res.text}`).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ code: 'validation_failed' });
    }
  });
});

describe('what an upstream may put in a proxied answer', () => {
  const page = '<html><body><script>fetch("/steal")</script></body></html>';

  it('an upstream CORS header never reaches the client, from a provider or a custom base URL', async () => {
    const custom = await connect(p.skTest, withBase('cors_custom', `http://mock.internal.test:${mock.port}/openai/v1`));
    expect(custom.status, custom.text).toBe(200);
    const own = await connect(p.skTest, { provider: 'openai', refId: 'cors_default', providerKey: 'sk-proj-cors-000000000000000000' });
    expect(own.status, own.text).toBe(200);
    const stop = mock.intercept(
      { provider: 'openai', path: '/chat/completions' },
      {
        status: 200,
        headers: {
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
          'access-control-allow-headers': '*',
          'access-control-expose-headers': '*',
        },
        json: { id: 'x', object: 'chat.completion', choices: [] },
      },
    );
    try {
      for (const refId of ['cors_custom', 'cors_default']) {
        const res = await proxy(refId);
        expect(res.status).toBe(200);
        await res.text();
        expect(
          [...res.headers.keys()].filter((h) => h.startsWith('access-control-')),
          refId,
        ).toEqual([]);
      }
    } finally {
      stop();
    }
  });

  it('HTML from a custom base URL is served as text/plain (with nosniff), never as a page', async () => {
    const stop = mock.intercept(
      { provider: 'openai', path: '/chat/completions' },
      { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page },
    );
    try {
      const res = await proxy('cors_custom');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(page); // the bytes, inert
      for (const type of ['application/xhtml+xml', 'image/svg+xml', 'text/xml', 'application/xml']) {
        const stopType = mock.intercept(
          { provider: 'openai', path: '/chat/completions', times: 1 },
          { headers: { 'content-type': type }, body: page },
        );
        const r = await proxy('cors_custom');
        await r.text();
        stopType();
        expect(r.headers.get('content-type'), type).toBe('text/plain; charset=utf-8');
      }
    } finally {
      stop();
    }
  });
});
