import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyEnv, startProxyEnv } from './support.js';

/**
 * A provider (or the sandbox) that answers before it has read the request body: the client's
 * keep-alive connection must stay usable for its next request, as it does when the client talks
 * to the provider directly.
 */
let env: ProxyEnv;
let upstream: ReturnType<typeof createServer>;

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.endsWith('/uploads')) {
      // Refuses the upload and closes the connection while it is still coming.
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":{"message":"Request entity too large"}}');
      return;
    }
    if (req.method === 'POST') {
      // As an edge proxy does with an upload over its limit: answer at once, never read it.
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"Request entity too large"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"object":"list","data":[]}');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  env = await startProxyEnv({ BYO_OPENAI_BASE_URL: `${url}/v1`, BYO_WEBHOOKS: 'false' });
  await env.connect('openai', 'cust', 'sk-proj-early0000000000000000000000000001');
  await env.connect('openai', 'sbx', 'sk-byo-test-valid', { test: true });
}, 180_000);
afterAll(async () => {
  await env?.close();
  upstream?.closeAllConnections();
  upstream?.close();
});

/** One request through `agent`; resolves with its status, an error code, or "no answer" after 5 s. */
function call(agent: Agent, key: string, ref: string, method: string, path: string, body?: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const r = httpRequest(
      `${env.proxyUrl('openai')}${path}`,
      { agent, method, headers: { authorization: `Bearer ${key}`, 'x-byo-ref-id': ref } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    r.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
    r.setTimeout(5000, () => {
      r.destroy();
      resolve('no answer');
    });
    r.end(body);
  });
}

describe('an answer before the request body was read', () => {
  it.each([
    { who: "the provider's 413", key: () => env.project.skLive, ref: 'cust', path: '/files', size: 2 * 1024 * 1024 },
    {
      who: "the sandbox's 413 for a body over 8 MiB",
      key: () => env.project.skTest,
      ref: 'sbx',
      path: '/chat/completions',
      size: 9 * 1024 * 1024,
    },
  ])(
    "passes $who on, and the client's next request on the connection is answered",
    async ({ key, ref, path, size }) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const first = await call(agent, key(), ref, 'POST', path, Buffer.alloc(size, 'a'));
      const second = await call(agent, key(), ref, 'GET', '/models');
      agent.destroy();
      expect([first, second]).toEqual(['413', '200']);
    },
    20_000,
  );

  it('a provider that closes the connection during a large upload gets a 502 that says so, not "could not reach"', async () => {
    const answer = await new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const r = httpRequest(`${env.proxyUrl('openai')}/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'cust', 'content-length': String(10 * 1024 * 1024) },
      });
      r.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      r.on('error', reject);
      r.write(Buffer.alloc(256 * 1024, 'a'));
      setTimeout(() => r.destroy(), 5000);
    });
    expect(answer.status).toBe(502);
    expect(answer.headers['x-byo-error-source']).toBe('byo');
    expect(answer.text).toContain('closed the connection while BYO was still sending the request body');
  }, 10_000);
});
