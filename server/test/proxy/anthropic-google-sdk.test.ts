import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { allHeaderValues, type ProxyEnv, startProxyEnv } from './support.js';

const ANTHROPIC_KEY = 'sk-ant-api03-storedAnthropicKey000000000000wxyz';
const GOOGLE_KEY = 'AIzaSyStoredGoogleKey0000000000000000abc';
let env: ProxyEnv;

beforeAll(async () => {
  env = await startProxyEnv();
  await env.connect('anthropic', 'cust_an', ANTHROPIC_KEY);
  await env.connect('google', 'cust_go', GOOGLE_KEY);
}, 180_000);
afterAll(async () => {
  await env?.close();
});

describe('official @anthropic-ai/sdk through the proxy', () => {
  it('messages.create (JSON) sends the stored key as x-api-key and keeps anthropic-version', async () => {
    const client = env.anthropic('cust_an');
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(msg.content[0]?.type === 'text' && msg.content[0].text).toBe(SANDBOX_REPLY);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const got = env.mock.last();
    expect(got?.provider).toBe('anthropic');
    expect(got?.path).toBe('/v1/messages');
    expect(got?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(got?.headers['anthropic-version']).toBeTruthy();
    expect(got?.headers.authorization).toBeUndefined();
    expect(allHeaderValues(got?.headers ?? {})).not.toContain('byo_');
  });

  it('forwards anthropic-beta and other provider headers', async () => {
    const client = env.anthropic('cust_an');
    await client.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } },
    );
    expect(env.mock.last()?.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
  });

  it('messages.create with stream: true (raw events and the stream helper)', async () => {
    const client = env.anthropic('cust_an');
    const stream = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
    });
    let text = '';
    const types: string[] = [];
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');

    const final = await client.messages
      .stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Again' }] })
      .finalMessage();
    expect(final.content[0]?.type === 'text' && final.content[0].text).toBe(SANDBOX_REPLY);
    expect(final.usage.output_tokens).toBeGreaterThan(1);
  });

  it('models.list', async () => {
    const client = env.anthropic('cust_an');
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('claude-sonnet-4-6');
    expect(env.mock.last()?.path).toBe('/v1/models');
  });
});

describe('official @google/genai through the proxy', () => {
  it('models.generateContent sends the stored key as x-goog-api-key, never in the URL', async () => {
    const ai = env.google('cust_go');
    const res = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
    expect(res.text).toBe(SANDBOX_REPLY);
    expect(res.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    const got = env.mock.last();
    expect(got?.provider).toBe('google');
    expect(got?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(got?.headers['x-goog-api-key']).toBe(GOOGLE_KEY);
    expect(got?.query.has('key')).toBe(false);
    expect(allHeaderValues(got?.headers ?? {})).not.toContain('byo_');
  });

  it('models.generateContentStream uses ?alt=sse and yields every chunk', async () => {
    const ai = env.google('cust_go');
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hello' });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      chunks++;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(chunks).toBeGreaterThan(3);
    const got = env.mock.last();
    expect(got?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(got?.query.get('alt')).toBe('sse');
  });

  it('models.list', async () => {
    const ai = env.google('cust_go');
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const m of pager) names.push(m.name ?? '');
    expect(names).toContain('models/gemini-2.5-flash');
  });

  it('accepts the BYO key as ?key= (and never forwards it)', async () => {
    const res = await fetch(`${env.proxyUrl('google')}/v1beta/models?key=${env.project.skLive}&pageSize=5`, {
      headers: { 'x-byo-ref-id': 'cust_go' },
    });
    expect(res.status).toBe(200);
    const got = env.mock.last();
    expect(got?.url).toBe('/google/v1beta/models?pageSize=5');
    expect(got?.headers['x-goog-api-key']).toBe(GOOGLE_KEY);
  });
});
