import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  BYOK,
  type BYOKError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  ProviderError,
  TimeoutError,
  ValidationError,
} from '../src/index.js';
import {
  type MockUpstream,
  rechunkingFetch,
  SANDBOX_REPLY,
  startMockUpstream,
  startTestServer,
  type TestProject,
  type TestServer,
} from './helpers/server.js';

let mock: MockUpstream;
let server: TestServer;
let project: TestProject;
let byok: BYOK;
/** The same client, but every response body arrives in 1-7 byte pieces. */
let choppy: BYOK;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestServer({ ...mock.env, BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1' });
  project = await server.createProject();
  byok = new BYOK({ apiKey: project.skTest, baseURL: server.url });
  choppy = new BYOK({ apiKey: project.skTest, baseURL: server.url, fetch: rechunkingFetch() });
  for (const provider of ['openai', 'anthropic', 'google'] as const) {
    await byok.keys.connect({ provider, refId: 'customer_123', providerKey: 'sk-byo-test-valid' });
    await byok.keys.connect({ provider, refId: 'upstream_1', providerKey: 'sk-upstream-real-key-1' });
  }
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const catchErr = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as BYOKError,
  );
const drain = async (it: AsyncIterable<unknown>) => {
  for await (const _ of it);
};

describe('OpenAI through the proxy (sandbox)', () => {
  const openai = () => byok.openai({ refId: 'customer_123' });

  it('chat.completions.create', async () => {
    const completion = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('chat.completions.create with stream: true, chunks split at awkward places', async () => {
    const stream = await choppy.openai({ refId: 'customer_123' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: number | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(chunks).toBeGreaterThan(3);
    expect(usage).toBeGreaterThan(0);
  });

  it('responses.create, with output_text', async () => {
    const response = await openai().responses.create({ model: 'gpt-4o-mini', input: 'Say hello' });
    expect(response.object).toBe('response');
    expect(response.output_text).toBe(SANDBOX_REPLY);
  });

  it('responses.create with stream: true', async () => {
    const stream = await choppy
      .openai({ refId: 'customer_123' })
      .responses.create({ model: 'gpt-4o-mini', input: 'Say hello', stream: true });
    let text = '';
    let completed: string | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response.output_text;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(completed).toBe(SANDBOX_REPLY);
  });

  it('embeddings.create', async () => {
    const res = await openai().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(typeof res.data[0]?.embedding[0]).toBe('number');
  });

  it('providers.list() and byok.openaiCompatible(): an OpenAI-compatible cloud through /v1/proxy/<id>', async () => {
    const catalog = await byok.providers.list();
    expect(catalog.data.map((p) => p.id)).toEqual(
      expect.arrayContaining(['openai', 'anthropic', 'google', 'groq', 'mistral', 'openrouter']),
    );
    await byok.keys.connect({ provider: 'groq', refId: 'customer_123', providerKey: 'sk-byo-test-valid' });
    const groq = byok.openaiCompatible('groq', { refId: 'customer_123' });
    expect(groq.provider).toBe('groq');
    expect(groq.baseURL).toBe(`${server.url}/v1/proxy/groq`);
    const res = await groq.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0]?.message.content).toBe(SANDBOX_REPLY);
  });

  it('byok.azure(): Azure OpenAI through its v1 API under the stored endpoint, model = the deployment name', async () => {
    await byok.keys.connect({
      provider: 'azure',
      refId: 'customer_123',
      providerKey: 'sk-byo-test-valid',
      providerConfig: { endpoint: 'https://my-resource.openai.azure.com' },
    });
    const sent: string[] = [];
    const watching = new BYOK({
      apiKey: project.skTest,
      baseURL: server.url,
      fetch: (input, init) => {
        sent.push(String(input));
        return fetch(input, init);
      },
    });
    const azure = watching.azure({ refId: 'customer_123' });
    expect(azure.provider).toBe('azure');
    expect(azure.baseURL).toBe(`${server.url}/v1/proxy/azure/openai/v1`);
    const res = await azure.chat.completions.create({ model: 'my-gpt-4o-deployment', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(sent).toEqual([`${server.url}/v1/proxy/azure/openai/v1/chat/completions`]);
  });

  it('models.list', async () => {
    const models = await openai().models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });
});

describe('Anthropic through the proxy (sandbox)', () => {
  const anthropic = () => byok.anthropic({ refId: 'customer_123' });

  it('messages.create', async () => {
    const message = await anthropic().messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(message.type).toBe('message');
    const block = message.content[0];
    expect(block?.type === 'text' ? block.text : undefined).toBe(SANDBOX_REPLY);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('messages.create with stream: true, chunks split at awkward places', async () => {
    const stream = await choppy
      .anthropic({ refId: 'customer_123' })
      .messages.create({ model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'Say hello' }], stream: true });
    let text = '';
    const types = new Set<string>();
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect([...types]).toEqual(
      expect.arrayContaining(['message_start', 'content_block_start', 'content_block_delta', 'message_delta', 'message_stop']),
    );
  });

  it('models.list', async () => {
    const models = await anthropic().models.list();
    expect(models.data.length).toBeGreaterThan(0);
    expect(models.data[0]?.type).toBe('model');
  });
});

describe('Google through the proxy (sandbox)', () => {
  const google = () => byok.google({ refId: 'customer_123' });

  it('generateContent.create', async () => {
    const res = await google().generateContent.create({ model: 'gemini-2.5-flash', contents: 'Say hello' });
    expect(res.text).toBe(SANDBOX_REPLY);
    expect(res.candidates?.[0]?.content.parts[0]?.text).toBe(SANDBOX_REPLY);
    expect(res.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(res)).text).toBeUndefined();
  });

  /** Several chunks whose texts join into the sandbox's reply. */
  async function expectSandboxReplyStreamed(stream: AsyncIterable<{ text: string | undefined }>): Promise<void> {
    let text = '';
    let n = 0;
    for await (const chunk of stream) {
      n++;
      text += chunk.text ?? '';
    }
    expect(n).toBeGreaterThan(1);
    expect(text).toBe(SANDBOX_REPLY);
  }

  it('generateContent.stream, chunks split at awkward places', async () => {
    const stream = await choppy.google({ refId: 'customer_123' }).generateContent.stream({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      generationConfig: { temperature: 0 },
    });
    await expectSandboxReplyStreamed(stream);
  });

  it('generateContent.create with stream: true streams, as the OpenAI and Anthropic clients do', async () => {
    const sent: { url: string; body: string }[] = [];
    const watching = new BYOK({
      apiKey: project.skTest,
      baseURL: server.url,
      fetch: (input, init) => {
        sent.push({ url: String(input), body: String(init?.body ?? '') });
        return fetch(input, init);
      },
    });
    const stream = await watching
      .google({ refId: 'customer_123' })
      .generateContent.create({ model: 'gemini-2.5-flash', contents: 'Say hello', stream: true });
    await expectSandboxReplyStreamed(stream);
    // Google's API has no `stream` field: the SDK calls the streaming method and leaves it out.
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toMatch(/\/models\/gemini-2\.5-flash:streamGenerateContent\?alt=sse$/);
    expect(JSON.parse(sent[0]?.body ?? '{}')).not.toHaveProperty('stream');
  });

  it('models.list', async () => {
    const models = await google().models.list();
    expect(models.models.length).toBeGreaterThan(0);
    expect(models.models[0]?.name).toMatch(/^models\//);
  });
});

describe('errors from a real proxy', () => {
  it('401 AuthenticationError for a bad BYO key, in every provider shape', async () => {
    const bad = new BYOK({ apiKey: 'byo_sk_test_0000000000000000000000000000000000', baseURL: server.url });
    for (const call of [
      () => bad.openai({ refId: 'x' }).models.list(),
      () => bad.anthropic({ refId: 'x' }).models.list(),
      () => bad.google({ refId: 'x' }).models.list(),
    ]) {
      const err = await catchErr(call());
      expect(err).toBeInstanceOf(AuthenticationError);
      expect(err).toMatchObject({ statusCode: 401, code: 'unauthorized' });
      expect(err?.requestId).toMatch(/^req_/);
    }
  });

  it('404 NotFoundError (key_not_found) for a refId without a key, in every provider shape', async () => {
    for (const call of [
      () => byok.openai({ refId: 'nobody' }).models.list(),
      () => byok.anthropic({ refId: 'nobody' }).models.list(),
      () => byok.google({ refId: 'nobody' }).generateContent.create({ model: 'gemini-2.5-flash', contents: 'hi' }),
    ]) {
      const err = await catchErr(call());
      expect(err).toBeInstanceOf(NotFoundError);
      expect(err?.code).toBe('key_not_found');
      expect(err?.message).toMatch(/nobody/);
    }
  });

  it('409 ConflictError (key_revoked) after a revoke', async () => {
    await byok.keys.connect({ provider: 'anthropic', refId: 'revoked_1', providerKey: 'sk-byo-test-valid' });
    await byok.keys.revoke({ provider: 'anthropic', refId: 'revoked_1' });
    const err = await catchErr(
      byok.anthropic({ refId: 'revoked_1' }).messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect(err?.code).toBe('key_revoked');
  });

  it('a provider rejecting the key is a ProviderError (401), then the key is disabled: ConflictError key_disabled', async () => {
    await byok.keys.connect({ provider: 'openai', refId: 'invalid_1', providerKey: 'sk-byo-test-invalid' });
    const first = await catchErr(byok.openai({ refId: 'invalid_1' }).models.list());
    expect(first).toBeInstanceOf(ProviderError);
    expect(first).toMatchObject({ statusCode: 401, provider: 'openai', code: 'invalid_api_key' });
    // Disabling happens right after the provider's answer; poll briefly for it.
    let second: BYOKError | undefined;
    for (let i = 0; i < 50; i++) {
      second = await catchErr(byok.openai({ refId: 'invalid_1' }).models.list());
      if (second instanceof ConflictError) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(second).toBeInstanceOf(ConflictError);
    expect(second?.code).toBe('key_disabled');
  });

  it('400 ValidationError when the ref id header is missing', async () => {
    const err = await catchErr(byok.openai({ refId: 'customer_123' }).models.list({ headers: { 'X-BYO-Ref-Id': null } }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err?.code).toBe('missing_ref_id');
  });

  it("the provider's 429 is a ProviderError with retryAfter, and is not retried", async () => {
    mock.intercept(
      { provider: 'openai' },
      {
        status: 429,
        headers: { 'retry-after': '7' },
        json: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
      },
    );
    const err = await catchErr(
      byok.openai({ refId: 'upstream_1' }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ statusCode: 429, code: 'rate_limit_exceeded', message: 'Rate limit reached', retryAfter: 7 });
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]?.headers.authorization).toBe('Bearer sk-upstream-real-key-1');
  });

  it("the provider's 500 is a ProviderError, in Google's shape too", async () => {
    mock.intercept(
      { provider: 'google' },
      { status: 500, json: { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } } },
    );
    const err = await catchErr(byok.google({ refId: 'upstream_1' }).generateContent.create({ model: 'gemini-2.5-flash', contents: 'hi' }));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ statusCode: 500, code: 'INTERNAL', provider: 'google' });
    expect(mock.requests).toHaveLength(1);
  });

  it('502 InternalServerError (upstream_unreachable) from BYO is retried, then thrown', async () => {
    await byok.keys.connect({
      provider: 'openai',
      refId: 'unreachable_1',
      providerKey: 'sk-upstream-real-key-2',
      providerConfig: { baseUrl: 'https://127.0.0.1:1/v1' },
    });
    let calls = 0;
    const counting = new BYOK({
      apiKey: project.skTest,
      baseURL: server.url,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const err = await catchErr(counting.openai({ refId: 'unreachable_1' }).models.list());
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ statusCode: 502, code: 'upstream_unreachable' });
    expect(err?.headers?.get('x-byo-error-source')).toBe('byo');
    expect(calls).toBe(3);
  });

  it('TimeoutError when the provider is slower than the timeout', async () => {
    mock.intercept({ provider: 'openai' }, async (_req, _res, h) => {
      await new Promise((r) => setTimeout(r, 2_000));
      return h.defaultReply();
    });
    const err = await catchErr(byok.openai({ refId: 'upstream_1' }).models.list({ timeout: 300, maxRetries: 0 }));
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it('an upstream that dies mid-stream ends the stream with APIConnectionError (not retried)', async () => {
    mock.intercept({ provider: 'anthropic' }, async (_req, res, h) => {
      const events = h.defaultReply().events ?? [];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events.slice(0, 3)) res.write(e);
      await new Promise((r) => setTimeout(r, 50));
      res.destroy();
      return undefined;
    });
    const stream = await byok
      .anthropic({ refId: 'upstream_1' })
      .messages.create({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true });
    const seen: string[] = [];
    const err = await catchErr(
      (async () => {
        for await (const ev of stream) seen.push(ev.type);
      })(),
    );
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(seen[0]).toBe('message_start');
    expect(mock.requests).toHaveLength(1);
  });

  it('aborting a stream reaches the provider', async () => {
    mock.intercept({ provider: 'openai' }, async (_req, _res, h) => ({ ...h.defaultReply(), eventDelayMs: 100 }));
    const ac = new AbortController();
    const stream = await byok
      .openai({ refId: 'upstream_1' })
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: ac.signal });
    const err = await catchErr(
      (async () => {
        for await (const _ of stream) ac.abort();
      })(),
    );
    expect(err).toBeInstanceOf(APIUserAbortError);
    const [req] = await mock.waitForRequests(1);
    const closed = await req!.closed;
    expect(closed.completed).toBe(false);
  });

  it('breaking out of a stream early also closes the upstream request', async () => {
    mock.intercept({ provider: 'google' }, async (_req, _res, h) => ({ ...h.defaultReply(), eventDelayMs: 100 }));
    const stream = await byok.google({ refId: 'upstream_1' }).generateContent.stream({ model: 'gemini-2.5-flash', contents: 'hi' });
    for await (const _ of stream) break;
    const [req] = await mock.waitForRequests(1);
    expect(req?.query.get('alt')).toBe('sse');
    expect((await req!.closed).completed).toBe(false);
  });

  it('never lets the BYO secret key reach the provider', async () => {
    await drain(
      await byok
        .openai({ refId: 'upstream_1' })
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    );
    await byok.anthropic({ refId: 'upstream_1' }).models.list();
    await byok.google({ refId: 'upstream_1' }).models.list();
    expect(mock.requests).toHaveLength(3);
    for (const r of mock.requests) expect(JSON.stringify(r.headers)).not.toContain(project.skTest);
    expect(mock.requests[1]?.headers['x-api-key']).toBe('sk-upstream-real-key-1');
    expect(mock.requests[1]?.headers['anthropic-version']).toBe('2023-06-01');
    expect(mock.requests[2]?.headers['x-goog-api-key']).toBe('sk-upstream-real-key-1');
  });
});
