import dc from 'node:diagnostics_channel';
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import { isIP, type Socket } from 'node:net';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuardedAgent } from '../../src/net/agents.js';
import { SsrfError, SsrfGuard } from '../../src/net/ssrf.js';
import { upstreamError } from '../../src/proxy/handler.js';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { rawExchange } from '../helpers/http.js';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer } from '../helpers/server.js';
import { type ProxyEnv, proxyEnvFor } from './support.js';

const jsonOf = (r: Response): Promise<any> => r.json();

/**
 * SSRF: refusals happen before any socket connects. Sockets are watched through
 * `net.client.socket` diagnostics; as a safety net, any connection to a non-loopback address
 * is refused by the test itself and recorded, so a broken guard fails the test without a
 * packet leaving the machine.
 */

const isLoopback = (a: string) => a === '::1' || a.startsWith('127.') || a === '::ffff:127.0.0.1';
let sockets = 0;
const attempts: string[] = [];
const wouldHaveConnected: string[] = [];

function onSocket(msg: unknown): void {
  const socket = (msg as { socket: Socket }).socket;
  sockets++;
  socket.on('connectionAttempt', (ip: string) => attempts.push(ip));
  const connect = socket.connect;
  socket.connect = function (this: Socket, ...args: unknown[]) {
    const first = args[0] as unknown;
    const opts = (Array.isArray(first) ? first[0] : first) as { host?: string; lookup?: (...a: any[]) => void };
    if (opts?.host && isIP(opts.host.replace(/^\[|\]$/g, '')) && !isLoopback(opts.host)) {
      wouldHaveConnected.push(opts.host);
      process.nextTick(() => this.destroy(new Error('test safety net: non-loopback connect refused')));
      return this;
    }
    const lookup = opts?.lookup;
    if (opts && lookup) {
      opts.lookup = (host: unknown, o: unknown, cb: (err: Error | null, addr?: unknown, fam?: number) => void) =>
        lookup(host, o, (err: Error | null, addr?: unknown, fam?: number) => {
          const list = (Array.isArray(addr) ? (addr as LookupAddress[]).map((a) => a.address) : [addr]) as string[];
          const bad = !err && list.find((a) => !isLoopback(a));
          if (bad) {
            wouldHaveConnected.push(bad);
            return cb(new Error('test safety net: non-loopback connect refused'));
          }
          cb(err, addr, fam);
        });
    }
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  } as Socket['connect'];
}

beforeAll(() => dc.subscribe('net.client.socket', onSocket));
afterAll(() => dc.unsubscribe('net.client.socket', onSocket));
beforeEach(() => {
  sockets = 0;
  attempts.length = 0;
  wouldHaveConnected.length = 0;
});

const stubResolver =
  (address: string, calls: string[] = []) =>
  (host: string, _opts: unknown, cb: (err: NodeJS.ErrnoException | null, addrs: LookupAddress[]) => void) => {
    calls.push(host);
    process.nextTick(() => cb(null, [{ address, family: isIP(address) }]));
  };

const TIMEOUTS = { connectTimeout: 500, headersTimeout: 1000, bodyTimeout: 1000 };

async function refusal(agent: ReturnType<typeof createGuardedAgent>, url: string): Promise<unknown> {
  return request(url, { dispatcher: agent }).then(
    () => null,
    (e: unknown) => e,
  );
}

const isSsrf = (e: unknown) => e instanceof SsrfError || (e as { cause?: unknown })?.cause instanceof SsrfError;

describe('guarded agent: every refused address class, via a stub resolver, before any connection attempt', () => {
  const classes: [string, string][] = [
    ['loopback', '127.0.0.1'],
    ['loopback (other)', '127.8.9.10'],
    ['loopback v6', '::1'],
    ['private 10/8', '10.1.2.3'],
    ['private 172.16/12', '172.20.0.5'],
    ['private 192.168/16', '192.168.1.1'],
    ['link-local / cloud metadata', '169.254.169.254'],
    ['link-local', '169.254.10.1'],
    ['CGNAT 100.64/10', '100.64.0.1'],
    ['unique-local fc00::/7', 'fd12:3456::1'],
    ['link-local v6', 'fe80::1'],
    ['IPv4-mapped private', '::ffff:10.0.0.1'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['NAT64-embedded private', '64:ff9b::a00:1'],
    ['6to4-embedded private', '2002:a00:1::1'],
    ['unspecified', '0.0.0.0'],
    ['unspecified v6', '::'],
    ['multicast', '224.0.0.1'],
    ['broadcast', '255.255.255.255'],
    ['reserved', '240.0.0.1'],
  ];
  const guard = new SsrfGuard({ allowedHosts: [] });

  for (const [name, address] of classes) {
    it(`refuses ${name} (${address})`, async () => {
      const calls: string[] = [];
      const agent = createGuardedAgent(guard, TIMEOUTS, stubResolver(address, calls) as never);
      try {
        const err = await refusal(agent, 'http://customer-model.example:8080/v1/models');
        expect(isSsrf(err), String(err)).toBe(true);
        expect(calls).toEqual(['customer-model.example']);
        expect(attempts).toEqual([]);
        expect(wouldHaveConnected).toEqual([]);
      } finally {
        await agent.close();
      }
    });
  }

  it('refuses literal-IP URLs in the dispatcher without resolving or creating a socket', async () => {
    const calls: string[] = [];
    const agent = createGuardedAgent(guard, TIMEOUTS, stubResolver('8.8.8.8', calls) as never);
    try {
      for (const url of [
        'http://10.0.0.1/',
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:a9fe:a9fe]/',
        'http://[fd00:ec2::254]/',
        'http://127.0.0.1:9/',
        'http://[::1]:9/',
        'http://0x7f000001:9/',
        'http://2130706433:9/',
      ]) {
        const err = await refusal(agent, url);
        expect(isSsrf(err), `${url}: ${String(err)}`).toBe(true);
      }
      expect(calls).toEqual([]);
      expect(sockets).toBe(0);
      expect(wouldHaveConnected).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('refuses a name with several addresses when any of them is refused (no DNS rebinding by mixing)', async () => {
    const agent = createGuardedAgent(guard, TIMEOUTS, ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) =>
      process.nextTick(() =>
        cb(null, [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.7', family: 4 },
        ]),
      )) as never);
    try {
      expect(isSsrf(await refusal(agent, 'http://mixed.example/'))).toBe(true);
      expect(attempts).toEqual([]);
      expect(wouldHaveConnected).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('the operator allow-list (BYO_ALLOWED_UPSTREAM_HOSTS) admits private ranges, but never the metadata address', async () => {
    const allowing = new SsrfGuard({ allowedHosts: ['10.0.0.0/8', '169.254.0.0/16', 'fd00::/8'] });
    const check = (address: string) =>
      new Promise<unknown>((resolve) =>
        allowing.lookupFor(80, stubResolver(address) as never)('vllm.internal', { all: true }, (err) => resolve(err)),
      );
    expect(await check('10.1.2.3')).toBeNull();
    expect(await check('fd00::5')).toBeNull();
    expect(await check('169.254.1.1')).toBeNull();
    expect(await check('169.254.169.254')).toBeInstanceOf(SsrfError);
    expect(await check('192.168.0.1')).toBeInstanceOf(SsrfError);
  });

  it('a resolver that never answers ends in a connect timeout, which the proxy reports as 504', async () => {
    const agent = createGuardedAgent(guard, { ...TIMEOUTS, connectTimeout: 200 }, (() => {}) as never);
    try {
      const err = (await refusal(agent, 'http://slow-dns.example/')) as { code?: string };
      expect(err.code).toBe('UND_ERR_CONNECT_TIMEOUT');
      const mapped = upstreamError(err);
      expect(mapped.code).toBe('upstream_timeout');
      expect(mapped.status).toBe(504);
    } finally {
      await agent.close();
    }
  });

  it('allowed traffic gets through (loopback server, host allowed by the operator)', async () => {
    const server: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const agent = createGuardedAgent(new SsrfGuard({ allowedHosts: ['127.0.0.1'] }), TIMEOUTS);
    try {
      const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
      expect(await res.body.text()).toBe('ok');
    } finally {
      await agent.close();
      server.close();
    }
  });
});

describe('through the proxy: a stored custom base URL is checked again at every connection', () => {
  let env: ProxyEnv;
  beforeAll(async () => {
    const mock = await startMockUpstream();
    // The operator allows the host name `localhost`; loopback by any other name or literal stays refused.
    const server = await startTestServer({ ...mock.env, BYO_ALLOWED_UPSTREAM_HOSTS: 'localhost', BYO_WEBHOOKS: 'false' });
    const project = await server.createProject();
    env = proxyEnvFor(server, mock, project, async () => {
      await server.close();
      await mock.close();
    });
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });
  afterEach(() => env.mock.reset());

  const setBaseUrl = (refId: string, baseUrl: string) =>
    env.server.app.services.db.updateTable('provider_keys').set({ base_url: baseUrl }).where('ref_id', '=', refId).execute();

  it('an OpenAI-compatible server on an allowed host works through the guarded agent', async () => {
    await env.connect('openai', 'selfhosted', 'sk-vllm-key-0000000000', { baseUrl: `http://localhost:${env.mock.port}/openai/v1` });
    const client = env.openai('selfhosted');
    const res = await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(env.mock.last()?.headers.authorization).toBe('Bearer sk-vllm-key-0000000000');
  });

  it('refuses to save a loopback base URL that the operator did not allow', async () => {
    const res = await env.server.request('POST', '/v1/keys/connect', {
      key: env.project.skLive,
      body: {
        provider: 'openai',
        refId: 'x',
        providerKey: 'sk-abcdefgh',
        providerConfig: { baseUrl: `http://127.0.0.1:${env.mock.port}/v1` },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_base_url');
  });

  for (const [name, host] of [
    ['a loopback literal', '127.0.0.1'],
    ['an IPv4-mapped loopback literal', '[::ffff:127.0.0.1]'],
    ['another loopback address', '127.0.0.2'],
  ] as const) {
    it(`a stored base URL that now points at ${name} gets 502 and no connection`, async () => {
      const refId = `moved_${host.replace(/\W/g, '')}`;
      await env.connect('openai', refId, 'sk-moved-key-000000000', { baseUrl: `http://localhost:${env.mock.port}/openai/v1` });
      await setBaseUrl(refId, `http://${host}:${env.mock.port}/openai/v1`); // as if DNS had moved
      const before = env.mock.connections;
      const err = await env
        .openai(refId)
        .models.list()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      const e = err as InstanceType<typeof OpenAI.APIError>;
      expect(e.status).toBe(502);
      expect(e.code).toBe('upstream_unreachable');
      expect(e.message).toContain('BYO_ALLOWED_UPSTREAM_HOSTS');
      expect(e.headers?.get('x-byo-error-source')).toBe('byo');
      expect(env.mock.connections).toBe(before);
      expect(env.mock.requests).toHaveLength(0);
    });
  }

  it('a name that resolves to a refused address at connect time gets 502 (stub resolver in the server’s dispatcher)', async () => {
    const services = env.server.app.services;
    const original = services.agents.guarded;
    const calls: string[] = [];
    services.agents.guarded = createGuardedAgent(services.guard, TIMEOUTS, stubResolver('10.20.30.40', calls) as never);
    try {
      await env.connect('openai', 'rebound', 'sk-rebound-key-0000000', { baseUrl: `http://localhost:${env.mock.port}/openai/v1` });
      await setBaseUrl('rebound', 'http://rebinding.example/v1');
      const res = await fetch(`${env.proxyUrl('openai')}/models`, {
        headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'rebound' },
      });
      expect(res.status).toBe(502);
      expect((await jsonOf(res)).error.message).toContain('private');
      expect(calls).toEqual(['rebinding.example']);
      expect(attempts).toEqual([]);
      expect(wouldHaveConnected).toEqual([]);
    } finally {
      await services.agents.guarded.close();
      services.agents.guarded = original;
    }
  });

  it('a DNS lookup that hangs past the connect timeout gets 504 upstream_timeout', async () => {
    const services = env.server.app.services;
    const original = services.agents.guarded;
    services.agents.guarded = createGuardedAgent(services.guard, { ...TIMEOUTS, connectTimeout: 300 }, (() => {}) as never);
    try {
      await env.connect('openai', 'slowdns', 'sk-slowdns-key-0000000', { baseUrl: `http://localhost:${env.mock.port}/openai/v1` });
      await setBaseUrl('slowdns', 'http://slow-dns.example/v1');
      const res = await fetch(`${env.proxyUrl('openai')}/models`, {
        headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'slowdns' },
      });
      expect(res.status).toBe(504);
      expect((await jsonOf(res)).error.code).toBe('upstream_timeout');
    } finally {
      await services.agents.guarded.close();
      services.agents.guarded = original;
    }
  });

  it('the request path cannot change the upstream host', async () => {
    await env.connect('openai', 'paths', 'sk-paths-key-000000000');
    for (const path of ['//evil.example/x', '/@evil.example/x', '/http://evil.example/x']) {
      const res = await fetch(`${env.proxyUrl('openai')}${path}`, {
        headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'paths' },
      });
      expect(res.status, path).toBe(404); // answered by the mock provider, on its own host
      expect(env.mock.last()?.url).toBe(`/openai/v1${path}`);
    }
  });

  it('an absolute-form request target goes to the provider path it names, on the provider host', async () => {
    await env.connect('openai', 'absolute', 'sk-absolute-key-000000000');
    const auth = `Authorization: Bearer ${env.project.skLive}\r\nX-BYO-Ref-Id: absolute\r\n`;
    const answer = await rawExchange(
      env.server.port,
      `GET http://evil.example/v1/proxy/openai/models?limit=2 HTTP/1.1\r\nHost: evil.example\r\n${auth}Connection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(env.mock.last()?.url).toBe('/openai/v1/models?limit=2');
  });

  it('bytes after a whole request (an OPTIONS body without Content-Length) do not replace its answer', async () => {
    await env.connect('openai', 'trailing', 'sk-trailing-key-000000000');
    const auth = `Authorization: Bearer ${env.project.skLive}\r\nX-BYO-Ref-Id: trailing\r\n`;
    const answer = await rawExchange(
      env.server.port,
      `OPTIONS /v1/proxy/openai/models HTTP/1.1\r\nHost: x\r\n${auth}\r\n{"not":"a request"}\r\n\r\n`,
    );
    // The provider's answer to the OPTIONS, then the connection closes; no BYO 400 in its place.
    expect(env.mock.last()?.method).toBe('OPTIONS');
    expect(answer).toMatch(/^HTTP\/1.1 [2-4]\d\d /); // an answer, and the first one the client got
    expect(answer.toLowerCase()).not.toContain('x-byo-error-source'); // the provider's: BYO's own carry it
    expect(answer.match(/^HTTP\/1.1 /gm)).toHaveLength(1);
  });
});
