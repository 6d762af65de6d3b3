import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProviderId } from '../../src/providers/registry.js';
import { type ProxyEnv, startProxyEnv } from '../proxy/support.js';

/**
 * Cost, through the public surfaces: calls through the proxy against a mock
 * provider that reports exact usage, then `GET /v1/usage` and `/v1/prices`.
 */
let env: ProxyEnv;
const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const anthropicSse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

async function usageOf(refId: string, key = env.project.skLive) {
  const res = await env.server.request('GET', `/v1/usage?refId=${refId}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.body as {
    data: { model: string; costUsd: number | null; unpricedRequests: number; outputTokens: number }[];
    totals: { costUsd: number; unpricedRequests: number };
  };
}

function openaiAnswers(model: string, usage: Record<string, unknown>) {
  return env.mock.intercept(
    { provider: 'openai', path: '/chat/completions', times: 1 },
    {
      json: {
        id: 'c1',
        object: 'chat.completion',
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage,
      },
    },
  );
}

beforeAll(async () => {
  env = await startProxyEnv();
  for (const ref of ['dated', 'ft', 'override', 'anth', 'cut', 'bad'])
    await env.connect(ref === 'anth' ? 'anthropic' : 'openai', ref, 'sk-real-key-123456');
});
afterAll(async () => env?.close());

describe('cost of proxied calls', () => {
  it('a dated model id is priced as its model, cached input at the cached price', async () => {
    openaiAnswers('gpt-4o-2024-08-06', {
      prompt_tokens: 1000,
      completion_tokens: 500,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 200 },
    });
    await env.openai('dated').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    const u = await usageOf('dated');
    // gpt-4o: 2.50 in, 1.25 cached in, 10 out per million.
    expect(u.data[0]).toMatchObject({ model: 'gpt-4o-2024-08-06', unpricedRequests: 0 });
    expect(u.data[0]?.costUsd).toBeCloseTo((800 * 2.5 + 200 * 1.25 + 500 * 10) / 1e6, 12);
    expect(u.totals.costUsd).toBeCloseTo(0.00725, 12);
  });

  it('a fine-tuned (unknown) model is unpriced: cost null and counted, never $0', async () => {
    openaiAnswers('ft:gpt-4o-mini-2024-07-18:acme::abc123', { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    await env
      .openai('ft')
      .chat.completions.create({ model: 'ft:gpt-4o-mini-2024-07-18:acme::abc123', messages: [{ role: 'user', content: 'x' }] });
    const u = await usageOf('ft');
    expect(u.data[0]).toMatchObject({ costUsd: null, unpricedRequests: 1 });
    expect(u.totals).toMatchObject({ costUsd: 0, unpricedRequests: 1 });
  });

  it('a project override wins over the table and covers dated ids; DELETE restores the table', async () => {
    const put = await env.server.request('PUT', '/v1/prices/openai/gpt-4o', { key: env.project.skLive, body: { input: 1, output: 2 } });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ provider: 'openai', model: 'gpt-4o', input: 1, output: 2, cachedInput: null, source: 'override' });
    const resolved = await env.server.request('GET', '/v1/prices?provider=openai&model=gpt-4o-2024-08-06', { key: env.project.skLive });
    expect(resolved.body.data).toEqual([expect.objectContaining({ model: 'gpt-4o', input: 1, source: 'override' })]);

    openaiAnswers('gpt-4o-2024-08-06', { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 });
    await env.openai('override').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect((await usageOf('override')).data[0]?.costUsd).toBeCloseTo(3, 9);

    // The other mode's prices are its own.
    const testMode = await env.server.request('GET', '/v1/prices?provider=openai&model=gpt-4o', { key: env.project.skTest });
    expect(testMode.body.data).toEqual([expect.objectContaining({ input: 2.5, source: 'table' })]);

    const del = await env.server.request('DELETE', '/v1/prices/openai/gpt-4o', { key: env.project.skLive });
    expect(del.body).toEqual({ provider: 'openai', model: 'gpt-4o', deleted: true });
    const after = await env.server.request('GET', '/v1/prices?provider=openai&model=gpt-4o', { key: env.project.skLive });
    expect(after.body.data).toEqual([expect.objectContaining({ input: 2.5, source: 'table' })]);
  });

  it('a model id with a slash is set URL-encoded', async () => {
    const put = await env.server.request('PUT', '/v1/prices/groq/openai%2Fgpt-oss-120b', {
      key: env.project.skLive,
      body: { input: 0.2, output: 0.8 },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.model).toBe('openai/gpt-oss-120b');
  });

  it('a bad price is refused with a coded 400 and calls keep working', async () => {
    for (const body of [
      { input: -1, output: 1 },
      { input: 'abc', output: 1 },
      { input: 1e9, output: 1 },
      { input: 1 },
      { input: 1, output: 1, extra: 1 },
    ]) {
      const res = await env.server.request('PUT', '/v1/prices/openai/gpt-4o-mini', { key: env.project.skLive, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    const pk = await env.server.request('PUT', '/v1/prices/openai/gpt-4o-mini', { key: env.project.pkLive, body: { input: 1, output: 1 } });
    expect(pk.status).toBe(403);
    const call = await env.openai('bad').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(call.choices.length).toBeGreaterThan(0);
  });

  it('lists the table with its as-of date and sources, every provider of the registry priced or inheriting', async () => {
    const res = await env.server.request('GET', '/v1/prices', { key: env.project.skLive });
    expect(res.status).toBe(200);
    expect(res.body.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(res.body.sources.openai).toMatch(/^https:\/\//);
    expect(
      res.body.data.some((p: { provider: string; model: string }) => p.provider === 'anthropic' && p.model === 'claude-3-5-sonnet'),
    ).toBe(true);
    expect(res.body.data[0]).toMatchObject({ source: 'override' }); // the groq override from above comes first
  });

  it.each(
    [
      ['anthropic', 'claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
      ['anthropic', 'claude-3-5-haiku-latest', 'claude-3-5-haiku'],
      ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['openai', 'gpt-4-0613', 'gpt-4'],
      ['azure', 'gpt-4o-2024-11-20', 'gpt-4o'],
      ['google', 'gemini-1.5-flash-002', 'gemini-1.5-flash'],
      ['google', 'models/gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash'],
      ['mistral', 'mistral-large-2411', 'mistral-large'],
      ['openrouter', 'anthropic/claude-3.5-sonnet', 'claude-3-5-sonnet'],
      ['bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0', 'anthropic.claude-3-5-sonnet'],
      ['bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0', 'anthropic.claude-3-5-haiku'],
      ['bedrock', 'amazon.nova-pro-v1:0', 'amazon.nova-pro'],
      ['vertex', 'claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet-v2'],
      ['vertex', 'gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ].filter(([provider]) => isProviderId(provider as string)),
  )('%s %s resolves to %s', async (provider, model, base) => {
    const res = await env.server.request('GET', `/v1/prices?provider=${provider}&model=${encodeURIComponent(model)}`, {
      key: env.project.skTest,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([expect.objectContaining({ model: base, source: 'table' })]);
  });

  it.each([
    ['openai', 'ft:gpt-4o-mini-2024-07-18:acme::abc'],
    ['openai', 'my-own-model'],
    ['openrouter', 'openai/gpt-4o:free'],
  ])('%s %s is unpriced', async (provider, model) => {
    const res = await env.server.request('GET', `/v1/prices?provider=${provider}&model=${encodeURIComponent(model)}`, {
      key: env.project.skTest,
    });
    expect(res.body.data).toEqual([]);
  });

  it('an Anthropic stream is costed from its final usage, cache writes and reads at their prices', async () => {
    env.mock.intercept(
      { provider: 'anthropic', path: '/v1/messages', times: 1 },
      {
        headers: { 'content-type': 'text/event-stream' },
        events: [
          anthropicSse('message_start', {
            type: 'message_start',
            message: {
              id: 'm1',
              model: 'claude-3-5-sonnet-20241022',
              usage: { input_tokens: 100, cache_creation_input_tokens: 1000, cache_read_input_tokens: 2000, output_tokens: 1 },
            },
          }),
          anthropicSse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } }),
          anthropicSse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 300 } }),
          anthropicSse('message_stop', { type: 'message_stop' }),
        ],
      },
    );
    const stream = await env
      .anthropic('anth')
      .messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 500, stream: true, messages: [{ role: 'user', content: 'x' }] });
    for await (const _ of stream) {
      /* drain */
    }
    const u = await usageOf('anth');
    // claude-3-5-sonnet: 3 in, 3.75 cache write, 0.30 cache read, 15 out.
    expect(u.data[0]?.costUsd).toBeCloseTo((100 * 3 + 1000 * 3.75 + 2000 * 0.3 + 300 * 15) / 1e6, 12);
  });

  it('a stream the client cancels before its usage is costed from what it streamed, not $0', async () => {
    env.mock.intercept({ provider: 'openai', path: '/chat/completions', times: 1 }, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 20; i++)
        res.write(
          sse({
            id: 'c',
            object: 'chat.completion.chunk',
            model: 'gpt-4o-mini-2024-07-18',
            choices: [{ index: 0, delta: { content: `w${i} ` } }],
          }),
        );
      // Never sends its usage: the client leaves first (ended after a while so that the mock can close).
      await new Promise((r) => {
        res.once('close', r);
        setTimeout(r, 1000).unref();
      });
      res.end();
      return undefined;
    });
    const ac = new AbortController();
    const stream = await env
      .openai('cut')
      .chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal });
    let seen = 0;
    try {
      for await (const _ of stream) if (++seen === 20) ac.abort();
    } catch {
      /* aborted */
    }
    expect(seen).toBe(20);
    await new Promise((r) => setTimeout(r, 200));
    const u = await usageOf('cut');
    expect(u.data[0]?.outputTokens).toBeGreaterThanOrEqual(20);
    expect(u.data[0]?.costUsd).toBeGreaterThan(0);
    expect(u.data[0]?.costUsd).toBeCloseTo(((u.data[0]?.outputTokens ?? 0) * 0.6) / 1e6, 12);
  });
});
