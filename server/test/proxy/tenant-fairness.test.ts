import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderName } from '../../src/db/schema.js';
import { type MockRequest, type MockUpstream, sseEvent, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { eventually } from './support.js';
import { send } from '../helpers/http.js';

/**
 * One project's held streams must not stall another project's calls. The
 * upstream pools are shared per origin by the whole process; each project has a cap on calls
 * in flight that bites before a pool fills, and a client that stops reading is cut off.
 */

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
const MESSAGES = JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Held {
  socket: net.Socket;
  /** The status of the response head, once it came. */
  status: Promise<number>;
}

/**
 * A proxied call on its own connection that reads the response head and then nothing more:
 * a client that stopped reading (its socket is paused, so the kernel buffers fill up).
 */
function hold(server: TestServer, path: string, headers: Record<string, string>, body = CHAT): Held {
  const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
  const head = [`POST ${path} HTTP/1.1`, 'host: byo', 'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  const status = new Promise<number>((resolve, reject) => {
    let got = '';
    const onData = (c: Buffer) => {
      got += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (!m || !got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve(Number(m[1]));
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.on('close', () => reject(new Error('closed before a response head')));
  });
  status.catch(() => {});
  return { socket, status };
}

/** Upstream answers that stream and never end, for the POST requests `match` picks. */
function streamForever(mock: MockUpstream, match: (r: MockRequest) => boolean, chunk: string | Buffer, everyMs: number): void {
  mock.intercept(
    (r) => r.method === 'POST' && match(r),
    async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      while (!res.destroyed) {
        // Respect the proxy's backpressure, as a real provider's TCP stack does.
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
        else if (everyMs > 0) await sleep(everyMs);
        else await new Promise((r) => setImmediate(r));
      }
      return undefined;
    },
  );
}

const bearer = (key: string | undefined) => (r: MockRequest) => r.headers.authorization === `Bearer ${key}`;

async function connect(server: TestServer, sk: string, provider: ProviderName, refId: string, providerKey: string, baseUrl?: string) {
  const res = await server.request('POST', '/v1/keys/connect', {
    key: sk,
    body: { provider, refId, providerKey, ...(baseUrl ? { providerConfig: { baseUrl } } : {}) },
  });
  if (res.status !== 200) throw new Error(`connect failed: ${res.status} ${res.text}`);
}

let held: Held[] = [];
afterEach(() => {
  for (const h of held) h.socket.destroy();
  held = [];
});

describe('one project holding many streams, default caps', () => {
  let mock: MockUpstream;
  let server: TestServer;
  let a: TestProject;
  let b: TestProject;

  beforeAll(async () => {
    mock = await startMockUpstream();
    server = await startTestServer({
      ...mock.env,
      BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
      BYO_ALLOW_HTTP_UPSTREAMS: 'true',
      BYO_PROXY_MAX_CONCURRENCY_PER_ORIGIN: '8',
      BYO_USAGE_FLUSH_INTERVAL: '1h',
      BYO_WEBHOOKS: 'false',
    });
    a = await server.createProject({ name: 'A' });
    b = await server.createProject({ name: 'B' });
    await connect(server, a.skLive, 'anthropic', 'a1', 'sk-ant-tenant-a-000000000000');
    await connect(server, b.skLive, 'anthropic', 'b1', 'sk-ant-tenant-b-000000000000');
    // A custom base URL (an OpenAI-compatible server), the same for both projects.
    await connect(server, a.skLive, 'openai', 'a1', 'sk-tenant-a-custom-0000000', mock.baseUrls.openai);
    await connect(server, b.skLive, 'openai', 'b1', 'sk-tenant-b-custom-0000000', mock.baseUrls.openai);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await mock?.close();
  });

  it("300 streams of project A held open against a provider leave project B's call prompt", async () => {
    const aKey = (r: MockRequest) => r.headers['x-api-key'] === 'sk-ant-tenant-a-000000000000';
    streamForever(mock, aKey, sseEvent({ tick: true }), 250);
    const arrived = () => mock.requests.filter(aKey).length;
    for (let i = 0; i < 300; i++)
      held.push(hold(server, '/v1/proxy/anthropic/v1/messages', { authorization: `Bearer ${a.skLive}`, 'x-byo-ref-id': 'a1' }, MESSAGES));
    // The process-wide pool used to hold 256 connections per provider: A's 257th call queued, and so did B's.
    await eventually(() => arrived() >= 256, 20_000);
    await sleep(300);

    const res = await send(server.url, {
      method: 'POST',
      path: '/v1/proxy/anthropic/v1/messages',
      headers: { authorization: `Bearer ${b.skLive}`, 'x-byo-ref-id': 'b1', 'content-type': 'application/json' },
      body: MESSAGES,
      timeoutMs: 3000,
    });
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
    // Under the default cap (1024) all of A's calls went through: the pool is large enough.
    expect(await Promise.all(held.map((h) => h.status))).toEqual(held.map(() => 200));
    expect(arrived()).toBe(300);
  }, 60_000);

  it("a project filling a custom origin's pool gets 429 concurrency_limited past its cap; another project's call to that origin answers", async () => {
    const aKey = 'sk-tenant-a-custom-0000000';
    streamForever(mock, bearer(aKey), sseEvent({ tick: true }), 250);
    for (let i = 0; i < 70; i++)
      held.push(hold(server, '/v1/proxy/openai/chat/completions', { authorization: `Bearer ${a.skLive}`, 'x-byo-ref-id': 'a1' }));
    // The pool of a custom origin used to hold 64 connections, for every project pointing there.
    await Promise.race([Promise.allSettled(held.map((h) => h.status)), sleep(3000)]);

    const res = await send(server.url, {
      method: 'POST',
      path: '/v1/proxy/openai/chat/completions',
      headers: { authorization: `Bearer ${b.skLive}`, 'x-byo-ref-id': 'b1', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      timeoutMs: 3000,
    });
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
    const statuses = await Promise.all(held.map((h) => h.status));
    expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    expect(statuses.filter((s) => s === 429)).toHaveLength(62);
    expect(mock.requests.filter(bearer(aKey))).toHaveLength(8);
  }, 60_000);
});

describe('the per-project cap (BYO_PROXY_MAX_CONCURRENCY=2) and the idle-read timeout (500 ms)', () => {
  let mock: MockUpstream;
  let server: TestServer;
  let p: TestProject;
  const auth = () => ({ authorization: `Bearer ${p.skLive}`, 'x-byo-ref-id': 'u1' });

  beforeAll(async () => {
    mock = await startMockUpstream();
    server = await startTestServer({
      ...mock.env,
      BYO_PROXY_MAX_CONCURRENCY: '2',
      BYO_PROXY_IDLE_READ_TIMEOUT: '500ms',
      BYO_USAGE_FLUSH_INTERVAL: '1h',
      BYO_WEBHOOKS: 'false',
    });
    p = await server.createProject();
    await connect(server, p.skLive, 'openai', 'u1', 'sk-cap-openai-00000000000000');
    await connect(server, p.skLive, 'anthropic', 'u1', 'sk-ant-cap-000000000000000000');
    await connect(server, p.skLive, 'google', 'u1', 'AIzaCap00000000000000000000000000000');
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await mock?.close();
  });

  /** Waits until the project's places are free again (the held calls ended). */
  const settled = () =>
    eventually(async () => {
      const r = await send(server.url, { method: 'GET', path: '/v1/proxy/openai/models', headers: auth() });
      return r.status === 200;
    });

  it('past the cap each provider answers an immediate 429 in its own shape, code concurrency_limited, with Retry-After', async () => {
    streamForever(mock, bearer('sk-cap-openai-00000000000000'), sseEvent({ tick: true }), 250);
    held.push(hold(server, '/v1/proxy/openai/chat/completions', auth()), hold(server, '/v1/proxy/openai/chat/completions', auth()));
    expect(await Promise.all(held.map((h) => h.status))).toEqual([200, 200]);
    const reached = mock.requests.length;

    const call = (path: string, body: unknown) =>
      send(server.url, {
        method: 'POST',
        path,
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs: 2000,
      });
    const openai = await call('/v1/proxy/openai/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    const anthropic = await call('/v1/proxy/anthropic/v1/messages', { model: 'claude-3-5-haiku-latest', max_tokens: 1, messages: [] });
    const google = await call('/v1/proxy/google/v1beta/models/gemini-2.0-flash:generateContent', { contents: [] });
    for (const r of [openai, anthropic, google]) {
      expect(r.status).toBe(429);
      expect(r.ms).toBeLessThan(1000);
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['x-byo-error-source']).toBe('byo');
      expect(r.headers['x-should-retry']).toBeUndefined(); // the SDKs retry a 429 after Retry-After
    }
    expect(JSON.parse(openai.text).error).toMatchObject({ type: 'rate_limit_error', code: 'concurrency_limited' });
    expect(JSON.parse(anthropic.text)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', code: 'concurrency_limited' } });
    expect(JSON.parse(google.text).error).toMatchObject({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      details: [{ reason: 'concurrency_limited' }],
    });
    expect(mock.requests).toHaveLength(reached); // refused before any upstream connection

    for (const h of held) h.socket.destroy();
    await settled();
  }, 30_000);

  it('a client that reads nothing for 500 ms is cut off: the upstream request is aborted and its place is free', async () => {
    mock.reset();
    const key = 'sk-cap-openai-00000000000000';
    streamForever(mock, bearer(key), Buffer.alloc(64 * 1024, 'x'), 0);
    held.push(hold(server, '/v1/proxy/openai/chat/completions', auth()), hold(server, '/v1/proxy/openai/chat/completions', auth()));
    expect(await Promise.all(held.map((h) => h.status))).toEqual([200, 200]);
    const upstream = (await mock.waitForRequests(2)).filter(bearer(key));
    expect(upstream).toHaveLength(2);

    // Without the timeout the paused upstream requests stayed open until BYO_UPSTREAM_BODY_TIMEOUT (300 s).
    const closed = await Promise.race([Promise.all(upstream.map((r) => r.closed)), sleep(5000).then(() => null)]);
    expect(closed).not.toBeNull();
    for (const c of closed ?? []) expect(c.completed).toBe(false);
    await settled();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/byo_proxy_stalled_clients_total [2-9]/);
  }, 30_000);

  it('a client that reads slowly keeps its stream', async () => {
    mock.reset();
    const key = 'sk-cap-openai-00000000000000';
    streamForever(mock, bearer(key), Buffer.alloc(16 * 1024, 'y'), 0);
    const slow = hold(server, '/v1/proxy/openai/chat/completions', auth());
    held.push(slow);
    expect(await slow.status).toBe(200);
    const [upstream] = await mock.waitForRequests(1);
    let gone = false;
    void upstream?.closed.then(() => {
      gone = true;
    });
    // Reads for 20 ms every 200 ms, for 2 s (four times the timeout): never idle for 500 ms.
    let read = 0;
    slow.socket.on('data', (c: Buffer) => {
      read += c.length;
    });
    for (let i = 0; i < 10; i++) {
      await sleep(200);
      slow.socket.resume();
      await sleep(20);
      slow.socket.pause();
    }
    expect(gone).toBe(false);
    expect(read).toBeGreaterThan(0);
    slow.socket.destroy();
    await settled();
  }, 30_000);
});
