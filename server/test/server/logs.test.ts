import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { send } from '../helpers/http.js';

/**
 * Logs scrub key-shaped strings wherever they are (messages,
 * printf arguments, error messages, stack traces, causes, nested fields), redact known
 * credential fields whatever their value, and never log query strings.
 */

function capture(level = 'trace') {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  });
  return { logger, lines, text: () => lines.join('') };
}

const rand = (n = 40) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

/** One canary per key shape BYO or a provider uses; each must vanish from every log line. */
function canaries() {
  return {
    byoSk: `byo_sk_live_${rand(49)}`,
    byoPk: `byo_pk_test_${rand(49)}`,
    connectToken: `byo_ct_${rand(30)}`,
    whsec: `whsec_${rand(32)}`,
    openai: `sk-proj-${rand(48)}`,
    anthropic: `sk-ant-api03-${rand(60)}`,
    google: `AIza${rand(35)}`,
    groq: `gsk_${rand(40)}`,
    xai: `xai-${rand(40)}`,
  };
}

/** The random part of each canary: what must never be logged (a prefix or a 4-character hint may be). */
function secretParts(c: Record<string, string>): string[] {
  return Object.values(c).map((v) => v.slice(-24));
}

function expectNoLeak(text: string, secrets: string[]) {
  for (const s of secrets) expect(text, `leaked ${s}`).not.toContain(s);
}

describe('the logger scrubs secrets wherever they appear', () => {
  it('in messages and printf-style arguments', () => {
    const c = canaries();
    const { logger, text } = capture();
    for (const v of Object.values(c)) {
      logger.info(`plain message with ${v} inside`);
      logger.warn('printf style %s and %o', v, { v });
      logger.error({ note: `field text ${v}` }, `message ${v}`);
    }
    expectNoLeak(text(), secretParts(c));
    expect(text()).toContain('[REDACTED]');
  });

  it('in error messages, stack traces and causes, keeping the error readable', () => {
    const c = canaries();
    const { logger, lines } = capture();
    const inner = new Error(`upstream said: Incorrect API key provided: ${c.openai}`);
    const outer = new Error(`request with ${c.byoSk} failed`, { cause: inner });
    logger.error({ err: outer }, 'proxy failed');
    logger.error(new Error(`top-level error carrying ${c.google}`));
    const parsed = lines.map((l) => JSON.parse(l));
    const first = parsed[0].err;
    expect(first.type).toBe('Error');
    expect(first.message).toContain('[REDACTED]');
    expect(first.stack).toMatch(/\n\s+at /);
    expect(first.cause.message).toContain('Incorrect API key provided: sk-proj-[REDACTED]');
    expect(parsed[1].err?.message ?? parsed[1].msg).toContain('[REDACTED]');
    expectNoLeak(lines.join(''), secretParts(c));
  });

  it('in nested objects and arrays, however deep', () => {
    const c = canaries();
    const { logger, text } = capture();
    let deep: Record<string, unknown> = { leaf: Object.values(c) };
    for (let i = 0; i < 12; i++) deep = { level: i, child: deep, list: [deep] };
    logger.info({ deep }, 'deep object');
    logger.info({ asJson: JSON.stringify({ apiKey: 'not-key-shaped-but-named', nested: c }) }, 'json in a string');
    expectNoLeak(text(), [...secretParts(c), 'not-key-shaped-but-named']);
  });

  it('redacts credential fields whatever their value looks like', () => {
    const { logger, text } = capture();
    const plain = `plain-${rand(20)}`;
    logger.info(
      {
        req: { headers: { authorization: `Basic ${plain}`, 'x-api-key': plain, 'x-goog-api-key': plain } },
        providerKey: plain,
        body: { providerKey: plain, apiKey: plain, secret: plain, token: plain },
      },
      'fields',
    );
    expectNoLeak(text(), [plain]);
  });

  it('removes credential query parameters and header-like pairs inside strings', () => {
    const { logger, text } = capture();
    const v = rand(30);
    logger.info(`GET https://generativelanguage.googleapis.com/v1beta/models?key=${v}&alt=sse`);
    logger.info(`callback ?access_token=${v} and &client_secret=${v}`);
    logger.info(`sent x-api-key: ${v} and authorization=${v}`);
    expectNoLeak(text(), [v]);
    expect(text()).toContain('alt=sse');
  });
});

describe('a server logging at trace level', () => {
  let server: TestServer;
  let project: TestProject;
  const providerKey = `sk-proj-${rand(48)}`;
  const odd = `odd-${rand(30)}`; // not key-shaped: only field redaction and "no query strings" protect it

  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'trace', BYO_PROXY_ACCESS_LOG: 'true' });
    project = await server.createProject();
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  }, 120_000);

  it('never logs a key, a token or a query string, whatever the request', async () => {
    const sk = project.skTest;
    const r1 = await server.request('POST', '/v1/keys/connect', {
      key: project.pkTest,
      body: { provider: 'openai', refId: 'cust_log', providerKey },
    });
    expect(r1.status, r1.text).toBe(200);
    await server.request('POST', '/v1/keys/connect', {
      key: sk,
      body: { provider: 'openai', refId: 'cust_sandbox', providerKey: 'sk-byo-test-valid' },
    });
    // Query strings with secrets, on JSON routes, unknown routes and the proxy.
    await server.request('GET', `/v1/keys?refId=cust_log&key=${odd}&token=${odd}`, { key: sk });
    await server.request('GET', `/v1/nowhere?key=${odd}&x=${odd}`);
    await send(server.url, {
      method: 'GET',
      path: `/v1/proxy/google/v1beta/models?key=${sk}`,
      headers: { 'x-byo-ref-id': 'cust_sandbox' },
    });
    await send(server.url, {
      method: 'POST',
      path: `/v1/proxy/openai/chat/completions?odd=${odd}`,
      headers: { authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'cust_sandbox', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: odd }] }),
    });
    // Credentials in the wrong places: a publishable key on the proxy, a mistyped secret key.
    await send(server.url, {
      method: 'GET',
      path: '/v1/proxy/openai/models',
      headers: { authorization: `Bearer ${project.pkTest}`, 'x-byo-ref-id': 'cust_log' },
    });
    await server.request('GET', '/v1/keys', { key: `${sk.slice(0, -1)}${sk.endsWith('X') ? 'Y' : 'X'}` });
    await send(server.url, { method: 'GET', path: '/v1/keys', headers: { 'x-api-key': odd, authorization: `Basic ${odd}` } });
    // Malformed bodies that contain a key.
    await send(server.url, {
      method: 'POST',
      path: '/v1/keys/connect',
      headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
      body: `{"providerKey":"${providerKey}",`,
    });
    await send(server.url, {
      method: 'POST',
      path: `/trpc/keys.connect?input=${encodeURIComponent(JSON.stringify({ providerKey }))}`,
      headers: { authorization: `Bearer ${sk}` },
    });

    const text = server.logs.join('');
    expect(server.logs.length).toBeGreaterThan(10);
    for (const secret of [providerKey.slice(-24), sk.slice(-24), project.pkTest.slice(-24), server.adminToken.slice(-24), odd])
      expect(text, `leaked ${secret}`).not.toContain(secret);
    // Every logged URL has had its query string removed.
    for (const line of server.logs) {
      const url = (JSON.parse(line) as { req?: { url?: string } }).req?.url;
      if (url) expect(url).not.toContain('?');
    }
  });
});
