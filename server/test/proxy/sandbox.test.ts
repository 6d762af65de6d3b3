import Anthropic from '@anthropic-ai/sdk';
import { ApiError } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { eventually, type ProxyEnv, startProxyEnv } from './support.js';

let env: ProxyEnv;
const VALID = 'sk-byo-test-valid';
const INVALID = 'sk-byo-test-invalid';

beforeAll(async () => {
  env = await startProxyEnv();
  for (const provider of ['openai', 'anthropic', 'google'] as const) {
    await env.connect(provider, 'sandbox_user', VALID, { test: true });
  }
}, 180_000);
afterAll(async () => {
  await env?.close();
});

const sk = () => env.project.skTest;

describe('test-mode sandbox (byo_sk_test_ + sk-byo-test-valid): no network, provider wire formats', () => {
  it('OpenAI: chat (JSON, stream with usage), responses (JSON, stream), embeddings, models', async () => {
    env.mock.reset();
    const client = env.openai('sandbox_user', { key: sk() });
    const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(chat.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    const again = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(again).toEqual(chat); // deterministic, ids included

    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(usage).toEqual(chat.usage);

    const resp = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(resp.output_text).toBe(SANDBOX_REPLY);
    const rs = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    const types: string[] = [];
    for await (const ev of rs) types.push(ev.type);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');

    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', dimensions: 64 });
    expect(emb.data[0]?.embedding).toHaveLength(64);
    const again2 = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', dimensions: 64 });
    expect(again2.data[0]?.embedding).toEqual(emb.data[0]?.embedding);
    // More inputs than OpenAI takes in one request: refused as OpenAI does, before any work.
    const tooMany = client.embeddings.create({ model: 'text-embedding-3-small', input: Array.from({ length: 2049 }, () => 'x') });
    await expect(tooMany).rejects.toThrow(/at most 2048 items/);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect(env.mock.requests).toHaveLength(0);
  });

  it('OpenAI: the sandbox answers a bad request like the provider would', async () => {
    const client = env.openai('sandbox_user', { key: sk() });
    const err = await client.chat.completions.create({ model: '', messages: [] } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('Anthropic: messages (JSON, stream), models', async () => {
    const client = env.anthropic('sandbox_user', { key: sk() });
    const msg = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]?.type === 'text' && msg.content[0].text).toBe(SANDBOX_REPLY);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    const final = await client.messages
      .stream({ model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.content[0]?.type === 'text' && final.content[0].text).toBe(SANDBOX_REPLY);
    expect(final.usage.output_tokens).toBe(msg.usage.output_tokens);
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-4-6');
    expect(env.mock.requests).toHaveLength(0);
  });

  it('Google: generateContent, generateContentStream (SSE), models', async () => {
    const ai = env.google('sandbox_user', { key: sk() });
    const res = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    expect(res.text).toBe(SANDBOX_REPLY);
    let text = '';
    let last: number | undefined;
    for await (const c of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })) {
      text += c.text ?? '';
      last = c.usageMetadata?.totalTokenCount;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(last).toBe(res.usageMetadata?.totalTokenCount);
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? '');
    expect(names).toContain('models/gemini-2.5-flash');
    expect(env.mock.requests).toHaveLength(0);
  });

  it('Google: embedContent gives outputDimensionality values, and refuses a dimension that is not an integer as Google does', async () => {
    const ai = env.google('sandbox_user', { key: sk() });
    const res = await ai.models.embedContent({ model: 'text-embedding-004', contents: 'hi', config: { outputDimensionality: 8 } });
    expect(res.embeddings?.[0]?.values).toHaveLength(8);
    const odd = await fetch(`${env.proxyUrl('google')}/v1beta/models/text-embedding-004:embedContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': sk(), 'x-byo-ref-id': 'sandbox_user', 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: 'hi' }] }, outputDimensionality: 1.5 }),
    });
    expect(odd.status).toBe(400);
    expect(odd.headers.get('x-byo-sandbox')).toBe('true');
    expect(((await odd.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
    // More than Google's 100 per batch: refused as Google does, before any work.
    const many = Array.from({ length: 101 }, () => 'x');
    await expect(ai.models.embedContent({ model: 'text-embedding-004', contents: many })).rejects.toThrow(/at most 100 requests/);
  });

  it('responses are marked x-byo-sandbox and carry x-byo-request-id', async () => {
    const res = await fetch(`${env.proxyUrl('openai')}/models`, {
      headers: { authorization: `Bearer ${sk()}`, 'x-byo-ref-id': 'sandbox_user' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-byo-sandbox')).toBe('true');
    expect(res.headers.get('x-byo-request-id')).toMatch(/^req_/);
  });

  it('a live key is never sandboxed: sk-byo-test-valid stored in live mode goes to the provider', async () => {
    await env.connect('openai', 'live_magic', VALID);
    env.mock.reset();
    const client = env.openai('live_magic');
    await client.models.list();
    expect(env.mock.requests).toHaveLength(1);
    expect(env.mock.last()?.headers.authorization).toBe(`Bearer ${VALID}`);
  });

  it('parses at most 1 MiB of JSON (on the event loop): a larger body gets 413 in the provider shape, unparsed', async () => {
    // One string of `n` bytes in an otherwise valid chat request.
    const chat = (n: number) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(n) }] });
    const post = (provider: 'openai' | 'anthropic', path: string, body: string) =>
      fetch(`${env.proxyUrl(provider)}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sk()}`, 'x-byo-ref-id': 'sandbox_user', 'content-type': 'application/json' },
        body,
      });
    const under = await post('openai', '/chat/completions', chat(1000 * 1024));
    expect(under.status).toBe(200);
    await under.text();

    // 2 MiB was parsed before (the limit was 8 MiB: an 8 MiB array stalled every call for a second).
    const over = await post('openai', '/chat/completions', chat(2 * 1024 * 1024));
    expect(over.status).toBe(413);
    expect(over.headers.get('x-byo-error-source')).toBe('byo');
    expect(((await over.json()) as { error: unknown }).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'payload_too_large',
      message: expect.stringContaining('1 MiB'),
    });
    const anthropic = await post('anthropic', '/v1/messages', chat(1024 * 1024 + 1));
    expect(anthropic.status).toBe(413);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large', code: 'payload_too_large' } });
  });
});

describe('sk-byo-test-invalid: the provider 401, in its own shape, and the key becomes disabled', () => {
  it('OpenAI SDK raises AuthenticationError; key.disabled is emitted once; later calls get 409 key_disabled', async () => {
    await env.connect('openai', 'bad_user', INVALID, { test: true });
    const client = env.openai('bad_user', { key: sk() });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');

    const meta = await eventually(async () => {
      const r = await env.server.request('GET', '/v1/keys/openai/bad_user', { key: sk() });
      return r.body.status === 'disabled' ? r.body : null;
    });
    expect(meta.statusReason).toContain('401');

    const err2 = await client.models.list().catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(OpenAI.ConflictError);
    const e2 = err2 as InstanceType<typeof OpenAI.ConflictError>;
    expect(e2.code).toBe('key_disabled');
    expect(e2.headers.get('x-byo-error-source')).toBe('byo');

    const events = await env.server.app.services.db
      .selectFrom('events')
      .select(['type', 'data'])
      .where('project_id', '=', env.project.id)
      .where('type', '=', 'key.disabled')
      .execute();
    const mine = events.filter((e) => JSON.stringify(e.data).includes('bad_user'));
    expect(mine).toHaveLength(1);
  });

  it('Anthropic and Google SDKs raise their authentication errors', async () => {
    await env.connect('anthropic', 'bad_user', INVALID, { test: true });
    await env.connect('google', 'bad_user', INVALID, { test: true });
    const a = await env
      .anthropic('bad_user', { key: sk() })
      .messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.AuthenticationError);
    const g = await env
      .google('bad_user', { key: sk() })
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })
      .catch((e: unknown) => e);
    expect(g).toBeInstanceOf(ApiError);
    expect((g as ApiError).status).toBe(401);
  });
});

describe('usage of sandbox calls', () => {
  it('GET /v1/usage sums calls and tokens by day, refId, provider and model', async () => {
    await env.connect('openai', 'usage_user', VALID, { test: true });
    const client = env.openai('usage_user', { key: sk() });
    const one = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count me' }] });
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of s) {
      /* drain */
    }
    const res = await env.server.request('GET', '/v1/usage?refId=usage_user', { key: sk() });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toHaveLength(1);
    const row = res.body.data[0];
    expect(row).toMatchObject({
      day: new Date().toISOString().slice(0, 10),
      refId: 'usage_user',
      provider: 'openai',
      model: 'gpt-4o-mini',
      requests: 2,
      errors: 0,
      inputTokens: 2 * (one.usage?.prompt_tokens ?? 0),
      outputTokens: 2 * (one.usage?.completion_tokens ?? 0),
      totalTokens: 2 * (one.usage?.total_tokens ?? 0),
    });
    expect(res.body.totals.requests).toBe(2);

    // Live mode sees none of it; a pk may not read usage.
    const live = await env.server.request('GET', '/v1/usage?refId=usage_user', { key: env.project.skLive });
    expect(live.body.data).toHaveLength(0);
    const pk = await env.server.request('GET', '/v1/usage', { key: env.project.pkTest });
    expect(pk.status).toBe(403);
  });

  it('filters by provider and day range and reports errors', async () => {
    const res = await env.server.request('GET', '/v1/usage?provider=openai&refId=bad_user', { key: sk() });
    expect(res.status, res.text).toBe(200);
    // The first call got the provider 401 (an error); the second BYO's 409 was not sent upstream and is not usage.
    expect(res.body.totals).toMatchObject({ requests: 1, errors: 1 });
    const old = await env.server.request('GET', '/v1/usage?from=2020-01-01&to=2020-01-31', { key: sk() });
    expect(old.body).toMatchObject({ from: '2020-01-01', to: '2020-01-31', data: [] });
    const bad = await env.server.request('GET', '/v1/usage?from=2020-02-01&to=2020-01-01', { key: sk() });
    expect(bad.status).toBe(400);
  });
});
