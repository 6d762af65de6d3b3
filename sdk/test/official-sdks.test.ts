import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BYOK } from '../src/index.js';
import { SANDBOX_REPLY, startTestServer, type TestServer } from './helpers/server.js';

// The official SDKs pointed at BYO's proxy with nothing but a provider client's apiKey, baseURL and headers.

let server: TestServer;
let byok: BYOK;
beforeAll(async () => {
  server = await startTestServer();
  const project = await server.createProject();
  byok = new BYOK({ apiKey: project.skTest, baseURL: server.url });
  for (const provider of ['openai', 'anthropic', 'google'] as const)
    await byok.keys.connect({ provider, refId: 'customer_123', providerKey: 'sk-byo-test-valid' });
});
afterAll(async () => {
  await server?.close();
});

describe('openai (npm) through the recipe', () => {
  const client = () => {
    const openai = byok.openai({ refId: 'customer_123' });
    return new OpenAI({ apiKey: openai.apiKey, baseURL: openai.baseURL, defaultHeaders: openai.headers });
  };

  it('chat.completions, JSON and stream', async () => {
    const completion = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(completion.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(SANDBOX_REPLY);
  });

  it('responses, embeddings, models', async () => {
    const response = await client().responses.create({ model: 'gpt-4o-mini', input: 'Say hello' });
    expect(response.output_text).toBe(SANDBOX_REPLY);
    const emb = await client().embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(emb.data[0]?.embedding.length).toBeGreaterThan(0);
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o-mini');
  });

  it("BYO's errors arrive as the SDK's own typed errors", async () => {
    const openai = byok.openai({ refId: 'nobody' });
    const c = new OpenAI({ apiKey: openai.apiKey, baseURL: openai.baseURL, defaultHeaders: openai.headers, maxRetries: 0 });
    const err = await c.models.list().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('key_not_found');
  });
});

describe('@anthropic-ai/sdk through the recipe', () => {
  const client = () => {
    const anthropic = byok.anthropic({ refId: 'customer_123' });
    return new Anthropic({ apiKey: anthropic.apiKey, baseURL: anthropic.baseURL, defaultHeaders: anthropic.headers });
  };

  it('messages, JSON and stream, and models', async () => {
    const message = await client().messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    const block = message.content[0];
    expect(block?.type === 'text' ? block.text : undefined).toBe(SANDBOX_REPLY);

    const stream = client().messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    let text = '';
    stream.on('text', (t) => {
      text += t;
    });
    const final = await stream.finalMessage();
    expect(text).toBe(SANDBOX_REPLY);
    expect(final.stop_reason).toBe('end_turn');

    const models = await client().models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });
});

describe('@google/genai through the recipe', () => {
  const client = () => {
    const google = byok.google({ refId: 'customer_123' });
    return new GoogleGenAI({ apiKey: google.apiKey, httpOptions: { baseUrl: google.baseURL, headers: google.headers } });
  };

  it('generateContent and generateContentStream', async () => {
    const res = await client().models.generateContent({ model: 'gemini-2.5-flash', contents: 'Say hello' });
    expect(res.text).toBe(SANDBOX_REPLY);
    let text = '';
    for await (const chunk of await client().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Say hello' }))
      text += chunk.text ?? '';
    expect(text).toBe(SANDBOX_REPLY);
  });
});
