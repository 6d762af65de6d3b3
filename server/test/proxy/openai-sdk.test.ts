import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { allHeaderValues, type ProxyEnv, startProxyEnv } from './support.js';

const STORED = 'sk-proj-openaiStoredKey0000000000001234';
let env: ProxyEnv;

beforeAll(async () => {
  env = await startProxyEnv();
  await env.connect('openai', 'cust_oa', STORED);
}, 180_000);
afterAll(async () => {
  await env?.close();
});

describe('official openai SDK through the proxy (baseURL + BYO secret key + X-BYO-Ref-Id only)', () => {
  it('chat.completions.create (JSON) reaches the provider with the stored key and returns its answer', async () => {
    env.mock.reset();
    const client = env.openai('cust_oa');
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(res.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(res.usage?.total_tokens).toBeGreaterThan(0);

    const got = env.mock.last();
    expect(got?.provider).toBe('openai');
    expect(got?.method).toBe('POST');
    expect(got?.path).toBe('/chat/completions');
    expect(got?.headers.authorization).toBe(`Bearer ${STORED}`);
    expect(got?.json).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] });
    const seen = allHeaderValues(got?.headers ?? {});
    expect(seen).not.toContain('byo_');
    expect(seen.toLowerCase()).not.toContain('x-byo-');
    expect(got?.headers['x-stainless-lang']).toBe('js'); // SDK headers pass through
  });

  it('chat.completions.create with stream: true yields the deltas and the usage chunk', async () => {
    const client = env.openai('cust_oa');
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: { total_tokens: number } | null | undefined = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it('responses.create (JSON and stream)', async () => {
    const client = env.openai('cust_oa');
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: 'Say hi' });
    expect(res.output_text).toBe(SANDBOX_REPLY);
    expect(res.usage?.input_tokens).toBeGreaterThan(0);

    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'Say hi', stream: true });
    let text = '';
    let completed = false;
    for await (const ev of stream) {
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') completed = true;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(completed).toBe(true);
  });

  it('embeddings.create (the SDK asks for base64 and decodes it)', async () => {
    const client = env.openai('cust_oa');
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['one', 'two'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding).toHaveLength(1536);
    expect(typeof res.data[0]?.embedding[0]).toBe('number');
    expect(env.mock.last()?.json).toMatchObject({ encoding_format: 'base64' });
  });

  it('models.list', async () => {
    const client = env.openai('cust_oa');
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o-mini');
    expect(env.mock.last()?.method).toBe('GET');
    expect(env.mock.last()?.path).toBe('/models');
  });

  it('keeps query strings and adds x-byo-request-id to responses', async () => {
    const res = await fetch(`${env.proxyUrl('openai')}/models?limit=2&after=x`, {
      headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'cust_oa' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-byo-request-id')).toMatch(/^req_/);
    expect(res.headers.get('x-byo-error-source')).toBeNull();
    expect(env.mock.last()?.url).toBe('/openai/v1/models?limit=2&after=x');
  });
});
