import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { gate, sseEvent } from '../helpers/mock-upstream.js';
import { eventually, type ProxyEnv, startProxyEnv } from './support.js';

const jsonOf = (r: Response): Promise<any> => r.json();

const KEY = 'sk-proj-behaviourKey00000000000000000001';
let env: ProxyEnv;

beforeAll(async () => {
  env = await startProxyEnv({
    // Long enough that an abort arriving upstream cannot be mistaken for a timeout.
    BYO_UPSTREAM_HEADERS_TIMEOUT: '2s',
    BYO_UPSTREAM_BODY_TIMEOUT: '2s',
    // No background queries, so "no database round trip" can be counted.
    BYO_WEBHOOKS: 'false',
    BYO_USAGE_FLUSH_INTERVAL: '1h',
    BYO_PROXY_MAX_CONCURRENCY: '4',
  });
  await env.connect('openai', 'cust', KEY);
  await env.connect('anthropic', 'cust', 'sk-ant-behaviour000000000000000');
  await env.connect('google', 'cust', 'AIzaBehaviour0000000000000000000000');
}, 180_000);
afterAll(async () => {
  await env?.close();
});

const url = (path: string) => `${env.proxyUrl('openai')}${path}`;
const auth = () => ({ authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'cust' });
const chatBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** A raw node:http request, so any header (cookie, connection, ...) can be sent. */
function rawRequest(
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('header hygiene', () => {
  it('strips every inbound credential, x-byo-*, cookies, hop-by-hop and forwarding headers; keeps provider headers', async () => {
    env.mock.reset();
    const res = await rawRequest(
      'POST',
      url('/chat/completions'),
      {
        authorization: `Bearer ${env.project.skLive}`,
        'x-api-key': env.project.skLive,
        'x-goog-api-key': env.project.skLive,
        'x-byo-ref-id': 'cust',
        'x-byo-client': 'sdk/1.0',
        cookie: 'session=abc',
        connection: 'keep-alive, x-hop-custom',
        'x-hop-custom': 'drop me',
        'keep-alive': 'timeout=5',
        'x-forwarded-for': '203.0.113.9',
        'openai-beta': 'assistants=v2',
        'openai-organization': 'org-123',
        'idempotency-key': 'idem-1',
        'accept-encoding': 'gzip, br',
        'content-type': 'application/json',
        'user-agent': 'my-app/1.0',
      },
      chatBody,
    );
    expect(res.status, res.text).toBe(200);
    const got = env.mock.last();
    const h = got?.headers ?? {};
    expect(h.authorization).toBe(`Bearer ${KEY}`);
    expect(h['x-api-key']).toBeUndefined();
    expect(h['x-goog-api-key']).toBeUndefined();
    expect(h.cookie).toBeUndefined();
    expect(h['x-hop-custom']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h['x-forwarded-for']).toBeUndefined();
    expect(Object.keys(h).filter((k) => k.startsWith('x-byo-'))).toEqual([]);
    expect(JSON.stringify(got?.rawHeaders)).not.toContain('byo_');
    expect(h['openai-beta']).toBe('assistants=v2');
    expect(h['openai-organization']).toBe('org-123');
    expect(h['idempotency-key']).toBe('idem-1');
    expect(h['user-agent']).toBe('my-app/1.0');
    expect(h['accept-encoding']).toBe('identity');
    expect(h['content-length']).toBe(String(Buffer.byteLength(chatBody)));
    expect(got?.text).toBe(chatBody); // body unaltered
  });

  it('passes response headers except hop-by-hop, set-cookie and upstream x-byo-*; adds x-byo-request-id', async () => {
    env.mock.intercept(
      { path: '/models', times: 1 },
      {
        status: 200,
        headers: {
          'set-cookie': 'tracking=1',
          'x-byo-error-source': 'byo',
          'x-ratelimit-remaining-requests': '42',
          'openai-processing-ms': '7',
          connection: 'x-upstream-hop',
          'x-upstream-hop': '1',
        },
        json: { object: 'list', data: [] },
      },
    );
    const res = await rawRequest('GET', url('/models'), auth());
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['x-byo-error-source']).toBeUndefined();
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(res.headers['x-ratelimit-remaining-requests']).toBe('42');
    expect(res.headers['openai-processing-ms']).toBe('7');
    expect(res.headers['x-byo-request-id']).toMatch(/^req_/);
  });

  it('streams large request bodies through unaltered (no body limit, chunked or sized)', async () => {
    env.mock.reset();
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');
    const sized = await rawRequest('POST', url('/files'), { ...auth(), 'content-type': 'application/octet-stream' }, big);
    expect(sized.status).toBe(404); // the mock has no /files; it answered, having read it all
    expect(env.mock.last()?.body.equals(big)).toBe(true);

    // A small body that arrived with its headers goes upstream in the same write: still exact and sized.
    const small = Buffer.from('{"model":"m","input":"h\u00e9"}');
    expect((await rawRequest('POST', url('/files'), { ...auth(), 'content-type': 'application/json' }, small)).status).toBe(404);
    expect(env.mock.last()?.body.equals(small)).toBe(true);
    expect(env.mock.last()?.headers['content-length']).toBe(String(small.length));

    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url('/files'), { method: 'POST', headers: { ...auth(), 'content-type': 'text/plain' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.flushHeaders(); // headers go out first, so the body is sent chunked
      let i = 0;
      const next = () => {
        if (i === 64) return void req.end();
        req.write(`chunk ${i++};`);
        setTimeout(next, 1);
      };
      next();
    });
    expect(chunked).toBe(404);
    expect(env.mock.last()?.headers['transfer-encoding']).toBe('chunked');
    expect(env.mock.last()?.text).toBe(Array.from({ length: 64 }, (_, i) => `chunk ${i};`).join(''));
  });
});

describe('errors BYO produces are in the provider error shape, marked x-byo-error-source: byo', () => {
  const call = (provider: string, headers: Record<string, string>, path = '/x') =>
    fetch(`${env.server.url}/v1/proxy/${provider}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{}',
    });

  it('401 for a missing or wrong BYO key, in each provider shape', async () => {
    const o = await call('openai', { 'x-byo-ref-id': 'cust' });
    expect(o.status).toBe(401);
    expect(o.headers.get('x-byo-error-source')).toBe('byo');
    expect(o.headers.get('x-should-retry')).toBe('false');
    const ob = await jsonOf(o);
    expect(ob).toMatchObject({ error: { type: 'authentication_error', code: 'unauthorized', message: expect.stringContaining('BYO') } });
    expect(ob.error.request_id).toBe(o.headers.get('x-byo-request-id'));

    const a = await call('anthropic', { 'x-api-key': 'byo_sk_live_wrong', 'x-byo-ref-id': 'cust' });
    expect(a.status).toBe(401);
    expect(await jsonOf(a)).toMatchObject({ type: 'error', error: { type: 'authentication_error', code: 'unauthorized' } });

    const g = await call('google', { 'x-goog-api-key': 'AIza-not-a-byo-key', 'x-byo-ref-id': 'cust' });
    expect(g.status).toBe(401);
    expect(await jsonOf(g)).toMatchObject({
      error: { code: 401, status: 'UNAUTHENTICATED', details: [{ reason: 'unauthorized', domain: 'byo' }] },
    });
    expect(env.mock.requests.filter((r) => r.path === '/x')).toHaveLength(0);
  });

  it('403 for a publishable key, 400 without X-BYO-Ref-Id, 404 for an unknown refId or provider, 400 for dot segments', async () => {
    const pk = await call('openai', { authorization: `Bearer ${env.project.pkLive}`, 'x-byo-ref-id': 'cust' });
    expect(pk.status).toBe(403);
    expect((await jsonOf(pk)).error.code).toBe('permission_denied');
    const noRef = await call('openai', { authorization: `Bearer ${env.project.skLive}` });
    expect(noRef.status).toBe(400);
    expect((await jsonOf(noRef)).error.code).toBe('missing_ref_id');
    const badRef = await call('openai', { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'has space' });
    expect(badRef.status).toBe(400);
    const unknown = await call('openai', { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'nobody' });
    expect(unknown.status).toBe(404);
    expect((await jsonOf(unknown)).error).toMatchObject({ code: 'key_not_found', type: 'not_found_error' });
    const prov = await call('mistral', { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'cust' });
    expect(prov.status).toBe(404);
    env.mock.reset();
    for (const path of ['/../admin', '/%2e%2e/admin', '/a/%2E%2E/%2e%2e/admin', '/a/..%2fadmin', '/a/..%5cadmin', '/a/%zz']) {
      const res = await rawRequest('GET', `${env.server.url}/v1/proxy/openai${path}`, auth());
      expect([400, 404], path).toContain(res.status); // refused by the proxy, or not even routed to it
    }
    const dots = await rawRequest('GET', `${env.server.url}/v1/proxy/openai/a/..%2fadmin`, auth());
    expect(dots.status).toBe(400);
    expect(JSON.parse(dots.text).error.code).toBe('bad_request');
    expect(env.mock.requests).toHaveLength(0);
  });

  it('a test-mode key sees only test-mode keys (the live key for this refId is not found)', async () => {
    const res = await call('openai', { authorization: `Bearer ${env.project.skTest}`, 'x-byo-ref-id': 'cust' });
    expect(res.status).toBe(404);
  });

  it('the official SDK raises the matching typed error with BYO’s code and does not retry it', async () => {
    const client = env.openai('nobody', { maxRetries: 2 });
    env.mock.reset();
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('key_not_found');
    expect((err as Error).message).toContain('No openai key is connected for refId "nobody"');
  });

  it('a revoked key is refused at once with 409 key_revoked', async () => {
    await env.connect('openai', 'to_revoke', 'sk-proj-revokeMe000000000000000000');
    const client = env.openai('to_revoke');
    await client.models.list(); // cached now
    const r = await env.server.request('POST', '/v1/keys/revoke', {
      key: env.project.skLive,
      body: { provider: 'openai', refId: 'to_revoke' },
    });
    expect(r.status).toBe(200);
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.ConflictError);
    expect((err as InstanceType<typeof OpenAI.ConflictError>).code).toBe('key_revoked');
  });
});

describe('streaming', () => {
  it('is not buffered: the client gets the first event while the upstream still holds the rest', async () => {
    const hold = gate();
    env.mock.intercept({ path: '/chat/completions', times: 1 }, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ n: 1 }));
      await hold.promise;
      res.write(sseEvent({ n: 2 }));
      res.end(sseEvent('[DONE]'));
      return undefined;
    });
    const res = await fetch(url('/chat/completions'), {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: chatBody,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: {"n":1}\n\n');
    hold.open();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it('a client that disconnects mid-stream aborts the upstream request', async () => {
    const hold = gate();
    let upstream: Promise<{ completed: boolean }> | undefined;
    env.mock.intercept({ path: '/chat/completions', times: 1 }, async (req, res) => {
      upstream = req.closed;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ n: 1 }));
      await Promise.race([hold.promise, req.closed]);
      return undefined;
    });
    const ac = new AbortController();
    const res = await fetch(url('/chat/completions'), {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: chatBody,
      signal: ac.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const t0 = Date.now();
    ac.abort();
    const closed = await (upstream as Promise<{ completed: boolean; at: number }>);
    expect(closed.completed).toBe(false);
    expect(closed.at - t0).toBeLessThan(1500); // well before the 2 s body timeout could have done it
    hold.open();
  });

  it('a client that disconnects before the answer aborts the upstream request too', async () => {
    let upstream: Promise<{ completed: boolean }> | undefined;
    env.mock.intercept({ path: '/embeddings', times: 1 }, async (req) => {
      upstream = req.closed;
      await req.closed; // never answers
      return undefined;
    });
    const ac = new AbortController();
    const pending = fetch(url('/embeddings'), {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '{}',
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await eventually(() => upstream);
    const t0 = Date.now();
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    const closed = await (upstream as Promise<{ completed: boolean; at: number }>);
    expect(closed.completed).toBe(false);
    expect(closed.at - t0).toBeLessThan(1500); // well before the 2 s headers timeout could have done it
  });

  it('an upstream that dies mid-stream ends the client stream promptly, and the server carries on', async () => {
    env.mock.intercept({ path: '/chat/completions', times: 1 }, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ n: 1 }));
      await new Promise((r) => setTimeout(r, 50));
      res.socket?.destroy();
      return undefined;
    });
    const client = env.openai('cust');
    const t0 = Date.now();
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true });
    const err = await (async () => {
      for await (const _ of stream) {
        /* read until it breaks */
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(5000);
    const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(ok.choices[0]?.message.content).toBe(SANDBOX_REPLY);
  });
});

describe('timeouts and unreachable upstreams', () => {
  it('no response headers within BYO_UPSTREAM_HEADERS_TIMEOUT: 504 upstream_timeout', async () => {
    env.mock.intercept({ path: '/chat/completions', times: 1 }, async (req) => {
      await req.closed;
      return undefined;
    });
    const t0 = Date.now();
    const res = await fetch(url('/chat/completions'), {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: chatBody,
    });
    expect(res.status).toBe(504);
    expect(res.headers.get('x-byo-error-source')).toBe('byo');
    expect((await jsonOf(res)).error.code).toBe('upstream_timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it('a stream that stalls longer than BYO_UPSTREAM_BODY_TIMEOUT is ended', async () => {
    env.mock.intercept({ path: '/chat/completions', times: 1 }, async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ n: 1 }));
      await req.closed;
      return undefined;
    });
    const res = await fetch(url('/chat/completions'), {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: chatBody,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const err = await (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read());
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });

  it('a redirect from the provider is not followed nor passed on: 502', async () => {
    env.mock.reset();
    env.mock.intercept({ path: '/models', times: 1 }, { status: 307, headers: { location: 'http://127.0.0.1:1/steal' }, body: '' });
    const res = await fetch(url('/models'), { headers: auth(), redirect: 'manual' });
    expect(res.status).toBe(502);
    expect(res.headers.get('location')).toBeNull();
    expect((await jsonOf(res)).error.code).toBe('upstream_unreachable');
    expect(env.mock.requests).toHaveLength(1);
  });
});

describe('provider answers about the key', () => {
  it('a provider 401 disables the key and emits key.disabled once, even for concurrent calls', async () => {
    await env.connect('anthropic', 'rejected', 'sk-ant-rejectedKey0000000000000');
    // The provider answers once all three calls reached it: they are in flight together, whatever the machine's load.
    const allThere = gate();
    let arrived = 0;
    env.mock.intercept({ provider: 'anthropic', path: '/v1/messages', times: 3 }, async () => {
      if (++arrived === 3) allThere.open();
      await allThere.promise;
      return { status: 401, json: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } };
    });
    const client = env.anthropic('rejected');
    const params = { model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user' as const, content: 'x' }] };
    const errs = await Promise.all([1, 2, 3].map(() => client.messages.create(params).catch((e: unknown) => e)));
    for (const e of errs) expect((e as { status?: number }).status).toBe(401); // the provider's answer, unchanged
    await eventually(
      async () => (await env.server.request('GET', '/v1/keys/anthropic/rejected', { key: env.project.skLive })).body.status === 'disabled',
    );
    const events = await env.server.app.services.db
      .selectFrom('events')
      .select(['type', 'data'])
      .where('project_id', '=', env.project.id)
      .where('type', '=', 'key.disabled')
      .execute();
    expect(events.filter((e) => JSON.stringify(e.data).includes('"rejected"'))).toHaveLength(1);
    const after = await client.messages.create(params).catch((e: unknown) => e);
    expect((after as { status?: number }).status).toBe(409);
    expect((after as { error?: { error?: { code?: string } } }).error?.error?.code).toBe('key_disabled');

    // Connecting a key again makes it usable.
    env.mock.reset();
    await env.connect('anthropic', 'rejected', 'sk-ant-newKey000000000000000000');
    const ok = await client.messages.create(params);
    expect(ok.type).toBe('message');
  });

  it('a provider 429 or 5xx passes through and changes nothing', async () => {
    await env.connect('openai', 'busy', 'sk-proj-busyKey00000000000000000000');
    env.mock.intercept(
      { path: '/models', times: 1 },
      {
        status: 429,
        headers: { 'retry-after': '1' },
        json: { error: { message: 'Rate limit', type: 'requests', code: 'rate_limit_exceeded' } },
      },
    );
    env.mock.intercept(
      { path: '/embeddings', times: 1 },
      { status: 503, json: { error: { message: 'overloaded', type: 'server_error' } } },
    );
    const r1 = await fetch(url('/models'), { headers: { ...auth(), 'x-byo-ref-id': 'busy' } });
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('1');
    expect(r1.headers.get('x-byo-error-source')).toBeNull();
    expect(await jsonOf(r1)).toEqual({ error: { message: 'Rate limit', type: 'requests', code: 'rate_limit_exceeded' } });
    const r2 = await fetch(url('/embeddings'), { method: 'POST', headers: { ...auth(), 'x-byo-ref-id': 'busy' }, body: '{}' });
    expect(r2.status).toBe(503);
    const meta = await env.server.request('GET', '/v1/keys/openai/busy', { key: env.project.skLive });
    expect(meta.body.status).toBe('active');
  });
});

describe('stored key integrity', () => {
  it('a ciphertext moved to another row fails closed (500, no key material) and counts a decrypt failure', async () => {
    await env.connect('openai', 'row_a', 'sk-proj-rowAkey000000000000000000');
    await env.connect('openai', 'row_b', 'sk-proj-rowBkey000000000000000000');
    const db = env.server.app.services.db;
    const a = await db
      .selectFrom('provider_keys')
      .select(['ciphertext', 'wrapped_key', 'master_key_id'])
      .where('ref_id', '=', 'row_a')
      .executeTakeFirstOrThrow();
    await db.updateTable('provider_keys').set(a).where('ref_id', '=', 'row_b').execute(); // row B now holds A's sealed key
    env.mock.reset();
    const res = await fetch(url('/models'), { headers: { ...auth(), 'x-byo-ref-id': 'row_b' } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain('internal_error');
    expect(text).not.toContain('rowAkey');
    expect(env.mock.requests).toHaveLength(0);
    const metrics = await (await fetch(`${env.server.url}/metrics`)).text();
    expect(metrics).toMatch(/byo_provider_key_decrypt_failures_total [1-9]/);
    expect(env.server.logs.join('')).not.toContain('rowAkey');
  });
});

describe('concurrency cap per project (BYO_PROXY_MAX_CONCURRENCY)', () => {
  it('answers 429 with Retry-After beyond the cap, and frees the slot when a call ends', async () => {
    const hold = gate();
    let arrived = 0;
    env.mock.intercept({ path: '/chat/completions', times: 4 }, async (_req, res) => {
      arrived++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ held: true }));
      await hold.promise;
      res.end(sseEvent('[DONE]'));
      return undefined;
    });
    const post = () =>
      fetch(url('/chat/completions'), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: chatBody });
    const held = await Promise.all([post(), post(), post(), post()]);
    expect(arrived).toBe(4);
    const over = await post();
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(over.headers.get('x-byo-error-source')).toBe('byo');
    expect((await jsonOf(over)).error.code).toBe('concurrency_limited');
    hold.open();
    for (const r of held) await r.text();
    const after = await post();
    expect(after.status).toBe(200);
    await after.text();
  });
});

describe('hot path', () => {
  it('a warm call makes no database query (BYO key and provider key come from memory)', async () => {
    const stats = env.server.app.services.storage.stats;
    const client = env.openai('cust');
    await client.models.list(); // warm both caches
    const before = stats.queries;
    for (let i = 0; i < 5; i++) await client.models.list();
    expect(stats.queries).toBe(before);
  });

  it('GET /metrics reports proxied requests, upstream latency, overhead and the key cache hit ratio', async () => {
    const res = await fetch(`${env.server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/byo_proxy_requests_total\{provider="openai",status="200",source="upstream"\} \d+/);
    expect(text).toMatch(/byo_proxy_requests_total\{provider="openai",status="401",source="byo"\} \d+/);
    expect(text).toMatch(/byo_proxy_upstream_latency_seconds_count\{provider="openai"\} \d+/);
    expect(text).toMatch(/byo_proxy_overhead_seconds_bucket\{le="0.001",provider="openai"\} \d+/);
    expect(text).toMatch(/byo_key_cache_hit_ratio 0\.\d+/);
    expect(text).toMatch(/byo_key_cache_lookups_total\{result="hit"\} \d+/);
    expect(text).not.toContain('byo_sk_');
  });

  it('usage rows carry status, model, latency and tokens of upstream calls', async () => {
    const client = env.openai('cust');
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'tokens' }] });
    const res = await env.server.request('GET', '/v1/usage?refId=cust&provider=openai&model=gpt-4o-mini', { key: env.project.skLive });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data[0]).toMatchObject({ refId: 'cust', model: 'gpt-4o-mini', requests: expect.any(Number) });
    expect(res.body.data[0].totalTokens).toBeGreaterThan(0);
  });
});
