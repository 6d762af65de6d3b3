import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIUserAbortError,
  BYOK,
  InternalServerError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  UnprocessableEntityError,
  ValidationError,
} from '../src/index.js';
import { byoError, hangUp, json, type MockServer, startMockServer } from './helpers/mock-http.js';

const SK = 'byo_sk_test_abcdefghijklmnopqrstuvwxyz0123456789';
const KEY = { id: 'key_1', provider: 'openai', refId: 'c1', status: 'active', updated: false, keyHint: 'sk-...alid' };
const CHUNK = {
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
};

let mock: MockServer;
let byok: BYOK;
beforeAll(async () => {
  mock = await startMockServer();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  byok = new BYOK({ apiKey: SK, baseURL: mock.url });
});

const catchErr = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe('retries', () => {
  it('retries BYO 5xx and sends the same Idempotency-Key on every attempt of a key write', async () => {
    mock.reply(
      byoError(503, 'database_unavailable', 'down', { 'retry-after': '0' }),
      byoError(500, 'internal_error', 'x', { 'retry-after': '0' }),
      json(200, KEY),
    );
    const res = await byok.keys.connect({ provider: 'openai', refId: 'c1', providerKey: 'sk-byo-test-valid' });
    expect(res).toEqual(KEY);
    expect(mock.requests).toHaveLength(3);
    const keys = mock.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^byo-sdk-[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${SK}`);
    expect(JSON.parse(mock.requests[0]!.body)).toEqual({ provider: 'openai', refId: 'c1', providerKey: 'sk-byo-test-valid' });
  });

  it('uses a caller-supplied idempotency key, and none on reads', async () => {
    mock.reply(json(200, KEY));
    await byok.keys.revoke({ provider: 'openai', refId: 'c1' }, { idempotencyKey: 'revoke-c1-1' });
    expect(mock.requests[0]?.headers['idempotency-key']).toBe('revoke-c1-1');
    mock.reply(json(200, { data: [], nextCursor: null }));
    await byok.keys.list();
    expect(mock.requests[0]?.headers['idempotency-key']).toBeUndefined();
  });

  it('gives up after maxRetries and throws the last error', async () => {
    mock.reply(byoError(502, 'upstream_unreachable', 'unreachable', { 'retry-after': '0' }));
    const err = await catchErr(byok.keys.list());
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ statusCode: 502, code: 'upstream_unreachable', requestId: 'req_mock' });
    expect(mock.requests).toHaveLength(3);
  });

  it('honours Retry-After on a 429 and exposes it', async () => {
    mock.reply(byoError(429, 'rate_limited', 'slow down', { 'retry-after': '1' }), json(200, { data: [], nextCursor: null }));
    const t0 = Date.now();
    await byok.keys.list();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(mock.requests).toHaveLength(2);

    mock.reply(byoError(429, 'rate_limited', 'slow down', { 'retry-after': '1' }));
    const err = await catchErr(byok.keys.list({}, { maxRetries: 0 }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfter).toBe(1);
  });

  it('retries 409 idempotency_in_progress after its Retry-After, with the same Idempotency-Key; not idempotency_conflict', async () => {
    mock.reply(
      byoError(409, 'idempotency_in_progress', 'Another request with this Idempotency-Key is in progress; retry after it completes.', {
        'retry-after': '1',
      }),
      json(200, KEY),
    );
    const t0 = Date.now();
    expect(await byok.keys.connect({ provider: 'openai', refId: 'c1', providerKey: 'sk-byo-test-valid' })).toEqual(KEY);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(mock.requests).toHaveLength(2);
    expect(mock.requests[1]?.headers['idempotency-key']).toBe(mock.requests[0]?.headers['idempotency-key']);

    mock.reply(byoError(422, 'idempotency_conflict', 'used with another request'), json(200, KEY));
    const err = await catchErr(byok.keys.connect({ provider: 'openai', refId: 'c1', providerKey: 'sk-byo-test-valid' }));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(err).not.toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ statusCode: 422, code: 'idempotency_conflict' });
    expect(mock.requests).toHaveLength(1);
  });

  it('does not wait for a Retry-After longer than a minute: the error goes to the caller', async () => {
    mock.reply(byoError(429, 'rate_limited', 'later', { 'retry-after': '3600' }));
    const err = await catchErr(byok.keys.list());
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfter).toBe(3600);
    expect(mock.requests).toHaveLength(1);
  });

  it('retries a dropped connection, then succeeds', async () => {
    mock.reply(hangUp, json(200, { data: [], nextCursor: null }));
    expect((await byok.keys.list()).data).toEqual([]);
    expect(mock.requests).toHaveLength(2);
  });

  it('throws APIConnectionError when the connection keeps dropping', async () => {
    mock.reply(hangUp);
    const err = await catchErr(byok.keys.list({}, { maxRetries: 1 }));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(mock.requests).toHaveLength(2);
  });

  it('throws APIConnectionError when nothing listens', async () => {
    const dead = new BYOK({ apiKey: SK, baseURL: 'http://127.0.0.1:1', maxRetries: 0 });
    const err = await catchErr(dead.keys.list());
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err?.message).toContain('http://127.0.0.1:1');
  });

  it('does not retry a 400 and reports the issues', async () => {
    mock.reply(
      json(400, {
        code: 'validation_failed',
        message: 'refId is invalid',
        requestId: 'req_x',
        issues: [{ path: 'refId', message: 'bad' }],
      }),
    );
    const err = await catchErr(byok.keys.get({ provider: 'openai', refId: 'x' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([{ path: 'refId', message: 'bad' }]);
    expect(mock.requests).toHaveLength(1);
  });

  it('does not retry a provider error passed through the proxy', async () => {
    mock.reply(json(500, { error: { message: 'The server had an error', type: 'server_error' } }));
    const err = await catchErr(byok.openai({ refId: 'c1' }).models.list());
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ statusCode: 500, provider: 'openai', code: 'server_error', message: 'The server had an error' });
    expect(mock.requests).toHaveLength(1);
  });

  it('retries a proxy error that BYO produced (x-byo-error-source: byo)', async () => {
    mock.reply(
      json(
        502,
        { error: { message: 'unreachable', type: 'api_error', code: 'upstream_unreachable' } },
        { 'x-byo-error-source': 'byo', 'retry-after': '0' },
      ),
      json(200, { object: 'list', data: [] }),
    );
    expect(await byok.openai({ refId: 'c1' }).models.list()).toEqual({ object: 'list', data: [] });
    expect(mock.requests).toHaveLength(2);
  });

  it('treats a proxy error without a BYO request id as coming from a gateway in front of BYO (retried)', async () => {
    mock.reply((_q, res) => {
      res.writeHead(503, { 'content-type': 'text/html', 'retry-after': '0' });
      res.end('<html>Service Unavailable</html>');
    });
    const err = await catchErr(byok.openai({ refId: 'c1' }).models.list());
    expect(err).toBeInstanceOf(InternalServerError);
    expect(mock.requests).toHaveLength(3);
  });
});

describe('timeouts and aborts', () => {
  const slow = (ms: number) => async (_q: unknown, res: import('node:http').ServerResponse) => {
    await new Promise((r) => setTimeout(r, ms));
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"nextCursor":null}');
  };

  it('throws TimeoutError (a kind of APIConnectionError) after `timeout`, and retries it', async () => {
    mock.reply(slow(3000));
    const err = await catchErr(byok.keys.list({}, { timeout: 150, maxRetries: 1 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(mock.requests).toHaveLength(2);
  });

  it('an aborted signal stops the request and is not retried', async () => {
    mock.reply(slow(3000));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await catchErr(byok.keys.list({}, { signal: ac.signal }));
    expect(err).toBeInstanceOf(APIUserAbortError);
    expect(mock.requests).toHaveLength(1);
  });
});

describe('streams', () => {
  const sse = (res: import('node:http').ServerResponse) =>
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-byo-request-id': 'req_s' });

  it('yields parsed chunks and stops at [DONE]', async () => {
    mock.reply((_q, res) => {
      sse(res);
      res.write(`data: ${JSON.stringify(CHUNK)}\n\ndata: ${JSON.stringify(CHUNK)}\n\ndata: [DONE]\n\n`);
      res.end();
    });
    const stream = await byok
      .openai({ refId: 'c1' })
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(stream.requestId).toBe('req_s');
    const got: string[] = [];
    for await (const chunk of stream) got.push(chunk.choices[0]?.delta.content ?? '');
    expect(got).toEqual(['Hi', 'Hi']);
    expect(mock.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('is not retried once bytes arrived: a connection dropped mid-stream is an APIConnectionError', async () => {
    mock.reply((_q, res) => {
      sse(res);
      res.write(`data: ${JSON.stringify(CHUNK)}\n\ndata: {"id":"c","obj`);
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const stream = await byok.openai({ refId: 'c1' }).chat.completions.create({ model: 'm', messages: [], stream: true });
    const got: unknown[] = [];
    const err = await catchErr(
      (async () => {
        for await (const c of stream) got.push(c);
      })(),
    );
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(mock.requests).toHaveLength(1);
  });

  it('is retried when BYO fails before the stream starts', async () => {
    mock.reply(byoError(503, 'database_unavailable', 'x', { 'retry-after': '0' }), (_q, res) => {
      sse(res);
      res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    });
    const stream = await byok.anthropic({ refId: 'c1' }).messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true });
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    expect(types).toEqual(['message_stop']);
    expect(mock.requests).toHaveLength(2);
  });

  it('breaking out of the loop closes the connection', async () => {
    let closed!: () => void;
    const wasClosed = new Promise<void>((r) => (closed = r));
    mock.reply((_q, res) => {
      sse(res);
      res.on('close', () => closed());
      const t = setInterval(() => res.write(`data: ${JSON.stringify(CHUNK)}\n\n`), 10);
      res.on('close', () => clearInterval(t));
    });
    const stream = await byok.openai({ refId: 'c1' }).chat.completions.create({ model: 'm', messages: [], stream: true });
    let n = 0;
    for await (const _ of stream) if (++n === 3) break;
    await wasClosed;
    expect(n).toBe(3);
  });

  it('an AbortSignal cancels a stream being read', async () => {
    let closed!: () => void;
    const wasClosed = new Promise<void>((r) => (closed = r));
    mock.reply((_q, res) => {
      sse(res);
      res.on('close', () => closed());
      res.write('event: message_start\ndata: {"type":"message_start","message":{}}\n\n');
    });
    const ac = new AbortController();
    const stream = await byok
      .anthropic({ refId: 'c1' })
      .messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true }, { signal: ac.signal });
    const err = await catchErr(
      (async () => {
        for await (const ev of stream) if (ev.type === 'message_start') ac.abort();
      })(),
    );
    expect(err).toBeInstanceOf(APIUserAbortError);
    await wasClosed;
  });

  it('an error event inside a stream throws ProviderError', async () => {
    mock.reply((_q, res) => {
      sse(res);
      res.end('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
    });
    const stream = await byok.anthropic({ refId: 'c1' }).messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true });
    const err = await catchErr(
      (async () => {
        for await (const _ of stream);
      })(),
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'overloaded_error', message: 'Overloaded', provider: 'anthropic' });
  });
});

describe('fetch injection', () => {
  it('sends every call through the given fetch, with each provider’s auth header and exact path', async () => {
    const calls: { url: string; headers: Headers; body: unknown }[] = [];
    const fetch = async (input: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(input), headers: new Headers(init?.headers), body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json', 'x-byo-request-id': 'req_f' } });
    };
    const c = new BYOK({ apiKey: SK, baseURL: 'https://byo.invalid', fetch });
    await c.openai({ refId: 'r1' }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await c.openai({ refId: 'r1' }).responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    await c.openai({ refId: 'r1' }).embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    await c.openai({ refId: 'r1' }).models.list();
    await c.anthropic({ refId: 'r2' }).messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    await c.anthropic({ refId: 'r2' }).models.list({ limit: 5 });
    await c
      .google({ refId: 'r3' })
      .generateContent.create({ model: 'models/gemini-2.5-flash', contents: 'hi', systemInstruction: 'be brief' });
    await c.google({ refId: 'r3' }).models.list();
    expect(calls.map((x) => x.url)).toEqual([
      'https://byo.invalid/v1/proxy/openai/chat/completions',
      'https://byo.invalid/v1/proxy/openai/responses',
      'https://byo.invalid/v1/proxy/openai/embeddings',
      'https://byo.invalid/v1/proxy/openai/models',
      'https://byo.invalid/v1/proxy/anthropic/v1/messages',
      'https://byo.invalid/v1/proxy/anthropic/v1/models?limit=5',
      'https://byo.invalid/v1/proxy/google/v1beta/models/gemini-2.5-flash:generateContent',
      'https://byo.invalid/v1/proxy/google/v1beta/models',
    ]);
    expect(calls[0]?.headers.get('authorization')).toBe(`Bearer ${SK}`);
    expect(calls[0]?.headers.get('x-byo-ref-id')).toBe('r1');
    expect(calls[2]?.body).toEqual({ model: 'text-embedding-3-small', input: 'hi' });
    expect(calls[4]?.headers.get('x-api-key')).toBe(SK);
    expect(calls[4]?.headers.get('anthropic-version')).toBe('2023-06-01');
    expect(calls[4]?.headers.get('authorization')).toBeNull();
    expect(calls[4]?.headers.get('x-byo-ref-id')).toBe('r2');
    expect(calls[6]?.headers.get('x-goog-api-key')).toBe(SK);
    expect(calls[6]?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      systemInstruction: { parts: [{ text: 'be brief' }] },
    });
    for (const call of calls) expect(call.headers.get('idempotency-key')).toBeNull();
  });

  it('the Google stream asks for alt=sse', async () => {
    let url = '';
    const fetch = async (input: string | URL | Request) => {
      url = String(input);
      return new Response('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"},{"text":"lo"}]}}]}\r\n\r\n', {
        headers: { 'content-type': 'text/event-stream' },
      });
    };
    const c = new BYOK({ apiKey: SK, baseURL: 'https://byo.invalid', fetch });
    const stream = await c.google({ refId: 'r3' }).generateContent.stream({ model: 'gemini-2.5-flash', contents: 'hi' });
    const texts: (string | undefined)[] = [];
    for await (const chunk of stream) texts.push(chunk.text);
    expect(url).toBe('https://byo.invalid/v1/proxy/google/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(texts).toEqual(['Hello']);
  });
});
