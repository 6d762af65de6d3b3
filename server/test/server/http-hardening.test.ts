import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { DEFAULT_HTML_CSP, registerSecurityHeaders } from '../../src/http/security-headers.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { restContractProblems } from '../helpers/checks.js';
import { parseRawResponse, rawExchange, send } from '../helpers/http.js';

/**
 * HTTP hardening: security headers on every response and on HTML pages,
 * BYO's error shape even for requests node's parser rejects, body size limits, and slow
 * clients (slowloris) cut off by the headers and request timeouts.
 */

let server: TestServer;
let project: TestProject;
beforeAll(async () => {
  server = await startTestServer({ BYO_HTTP_HEADERS_TIMEOUT: '1s', BYO_HTTP_REQUEST_TIMEOUT: '2s' });
  project = await server.createProject({ allowedOrigins: ['https://app.example.com'] });
}, 180_000);
afterAll(async () => {
  await server?.close();
}, 120_000);

describe('security headers', () => {
  it('every JSON answer carries nosniff, no-referrer and no-store, errors included', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/healthz', {}],
      ['GET', '/v1/openapi.json', {}],
      ['GET', '/v1/keys', { authorization: `Bearer ${project.skTest}` }],
      ['GET', '/v1/keys', {}],
      ['GET', '/v1/nope', {}],
      ['POST', '/trpc/keys.list', {}],
      ['GET', '/v1/proxy/openai/models', {}],
    ];
    for (const [method, path, headers] of cases) {
      const res = await send(server.url, { method, path, headers });
      expect(res.headers['x-content-type-options'], `${method} ${path}`).toBe('nosniff');
      expect(String(res.headers['content-type']), `${method} ${path}`).toMatch(/^application\/json/);
      if (!path.startsWith('/v1/proxy/')) {
        expect(res.headers['referrer-policy'], `${method} ${path}`).toBe('no-referrer');
        if (/^\/(v1|trpc)\//.test(path)) expect(res.headers['cache-control'], `${method} ${path}`).toBe('no-store');
      }
    }
  });

  it('the API answer that shows a new key once is never cached', async () => {
    const res = await server.request('POST', '/v1/admin/projects', { key: server.adminToken, body: { name: 'cache' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('every HTML page the server serves has a CSP with frame-ancestors, nosniff and a referrer policy', async () => {
    const candidates = [
      '/docs',
      `/connect/embed?pk=${project.pkTest}&refId=cust_1&parentOrigin=${encodeURIComponent('https://app.example.com')}`,
      `/connect/embed?pk=${project.pkTest}&refId=cust_1&parentOrigin=${encodeURIComponent('https://evil.test')}`,
      '/connect/embed',
    ];
    let pages = 0;
    for (const path of candidates) {
      const res = await send(server.url, { method: 'GET', path, headers: { accept: 'text/html' } });
      if (!String(res.headers['content-type']).startsWith('text/html')) continue;
      pages++;
      const csp = String(res.headers['content-security-policy'] ?? '');
      expect(csp, path).toMatch(/frame-ancestors [^;]+/);
      expect(csp, path).toMatch(/default-src 'none'|default-src 'self'/);
      expect(csp, path).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp, path).toMatch(/base-uri/);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['referrer-policy'], path).toMatch(/no-referrer|same-origin|strict-origin/);
      if (path.includes('evil.test')) expect(csp, path).not.toContain('https://evil.test');
    }
    expect(pages, 'no HTML page found to check').toBeGreaterThanOrEqual(1);
  });

  it('reflects no markup from the query string or the Host header into an HTML page', async () => {
    const xss = '"><script>alert(1)</script>';
    const paths = [
      `/connect/embed?pk=${encodeURIComponent(xss)}&refId=${encodeURIComponent(xss)}&parentOrigin=${encodeURIComponent(xss)}`,
      `/connect/embed?pk=${project.pkTest}&refId=cust_1&parentOrigin=${encodeURIComponent('https://app.example.com')}&theme=${encodeURIComponent(xss)}`,
      `/docs?${encodeURIComponent(xss)}=1`,
    ];
    for (const path of paths) {
      for (const host of [undefined, `x${xss}`.replace(/[^\x21-\x7e]/g, '')]) {
        const res = await send(server.url, { method: 'GET', path, headers: host ? { host } : {} });
        expect(res.text, `${path} host=${host}`).not.toContain('<script>alert(1)</script>');
      }
    }
  });

  it('an HTML page that sets no policy gets a locked-down default CSP and X-Frame-Options', async () => {
    // The hook on a bare Fastify (the app registers the same function; the tests above prove it is on).
    const app = Fastify();
    registerSecurityHeaders(app);
    app.get('/plain.html', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>hi</p>'));
    app.get('/own.html', async (_req, reply) =>
      reply.type('text/html').header('content-security-policy', "default-src 'self'; frame-ancestors https://a.test").send('<p>hi</p>'),
    );
    try {
      const res = await app.inject({ method: 'GET', url: '/plain.html' });
      expect(res.headers['content-security-policy']).toBe(DEFAULT_HTML_CSP);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      const own = await app.inject({ method: 'GET', url: '/own.html' });
      expect(own.headers['content-security-policy']).toBe("default-src 'self'; frame-ancestors https://a.test");
      expect(own.headers['x-frame-options']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('requests the HTTP parser refuses still get a coded JSON error', () => {
  const cases: [string, string, number][] = [
    ['garbage request line', 'HELLO\r\n\r\n', 400],
    ['bad header name', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 400],
    [
      'CL and TE together (smuggling)',
      'POST /v1/keys/connect HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['two Content-Lengths', 'POST /v1/keys/connect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400],
    [
      'bad chunk size',
      'POST /v1/keys/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      400,
    ],
    ['headers too large', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    // On a proxy URL too: BYO's own answers, marked so that no client takes them for the provider's.
    ['headers too large, proxy URL', `GET /v1/proxy/openai/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a method the proxy does not take', 'PROPFIND /v1/proxy/openai/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['a malformed percent-encoding, proxy URL', 'GET /v1/proxy/%6fpenai/%C0%AE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
  ];
  for (const [name, bytes, status] of cases) {
    it(name, async () => {
      const raw = await rawExchange(server.port, bytes);
      const res = parseRawResponse(raw);
      expect(res, raw.slice(0, 300)).not.toBeNull();
      if (!res) return;
      expect(res.status).toBe(status);
      expect(res.headers['x-byo-error-source']).toBe('byo');
      expect(restContractProblems({ status: res.status, headers: res.headers, text: res.body }, { method: 'GET' })).toEqual([]);
    });
  }
});

describe('body size limits', () => {
  const big = JSON.stringify({ provider: 'openai', refId: 'r', providerKey: `sk-${'a'.repeat(1024 * 1024)}` });
  for (const path of ['/v1/keys/connect', '/trpc/keys.connect', '/v1/admin/projects']) {
    it(`a 1 MiB body to ${path} is refused with 413 before it is read`, async () => {
      const started = performance.now();
      const res = await send(server.url, {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${project.skTest}` },
        body: big,
      });
      expect(res.status).toBe(413);
      expect(res.text).toContain('payload_too_large');
      expect(performance.now() - started).toBeLessThan(10_000);
    });
  }

  it('a chunked body without Content-Length is cut at the same limit', async () => {
    const chunk = 'a'.repeat(16 * 1024);
    const head = 'POST /v1/keys/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const raw = await rawExchange(server.port, `${head}${body}0\r\n\r\n`);
    expect(parseRawResponse(raw)?.status).toBe(413);
  });

  it('a body nested deeper than 64 levels is a 400, not a stack overflow', async () => {
    for (const path of ['/v1/keys/connect', '/trpc/keys.connect']) {
      const res = await send(server.url, {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${project.skTest}` },
        body: `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
      });
      expect(res.status, path).toBe(400);
    }
  });
});

describe('slow clients (BYO_HTTP_HEADERS_TIMEOUT=1s, BYO_HTTP_REQUEST_TIMEOUT=2s)', () => {
  /** Opens a socket that writes `parts` one by one every `everyMs`; resolves with what came back and when. */
  function trickle(parts: string[], everyMs: number, giveUpMs = 15_000): Promise<{ raw: string; closedAfterMs: number; sent: number }> {
    return new Promise((resolve) => {
      const started = performance.now();
      const sock = net.connect({ host: '127.0.0.1', port: server.port });
      let raw = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < parts.length && !sock.destroyed) sock.write(parts[sent++] as string);
      }, everyMs);
      const done = () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ raw, closedAfterMs: performance.now() - started, sent });
      };
      const giveUp = setTimeout(() => {
        sock.destroy();
        done();
      }, giveUpMs);
      sock.on('data', (d) => {
        raw += d.toString('latin1');
      });
      sock.on('close', done);
      sock.on('error', () => {});
    });
  }

  it('a client sending its headers one byte at a time is cut off with 408', async () => {
    const request = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
    const r = await trickle([...request], 100);
    expect(r.sent).toBeLessThan(request.length);
    expect(r.closedAfterMs).toBeLessThan(6_000);
    const res = parseRawResponse(r.raw);
    expect(res?.status).toBe(408);
    expect(JSON.parse(res?.body ?? '{}').code).toBe('request_timeout');
  });

  it('a client that connects and sends nothing is disconnected', async () => {
    const r = await trickle([], 1000);
    expect(r.closedAfterMs).toBeLessThan(6_000);
  });

  it('a client trickling its body is cut off by the request timeout', async () => {
    const head = 'POST /v1/keys/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const r = await trickle([head, ...Array.from({ length: 100 }, () => ' ')], 100);
    expect(r.sent).toBeLessThan(101);
    expect(r.closedAfterMs).toBeLessThan(8_000);
  });

  it('keeps serving others while 50 slowloris connections are open', async () => {
    const attackers = Array.from({ length: 50 }, () => trickle([...'GET /healthz HTTP/1.1\r\nHost: x\r\n'], 200));
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const res = await send(server.url, { method: 'GET', path: '/v1/keys', headers: { authorization: `Bearer ${project.skTest}` } });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(3_000);
    const results = await Promise.all(attackers);
    for (const r of results) expect(r.closedAfterMs).toBeLessThan(8_000);
  });
});
