import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers/registry.js';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { allHeaderValues, eventually, type ProxyEnv, startProxyEnv } from './support.js';

/**
 * The OpenAI-compatible providers by name: the official `openai` SDK pointed at
 * `/v1/proxy/<id>` works as for `openai`, each provider's calls go to its own base
 * (`BYO_<ID>_BASE_URL`) with the stored key as a bearer token, and validation really checks
 * the key with each provider's probe.
 */

const GROQ_KEY = 'gsk_groqStoredKey000000000000000000001234';
const OPENROUTER_KEY = 'sk-or-v1-openrouterStoredKey00000000005678';
const PPLX_KEY = 'pplx-perplexityStoredKey000000000000009012';

/** A provider that checks its key as Perplexity does: 401 for a wrong key, 400 for an empty chat. */
interface Probed {
  server: Server;
  url: string;
  seen: { method: string; url: string; auth: string | undefined; body: string }[];
}

async function startProbedProvider(goodKey: string): Promise<Probed> {
  const seen: Probed['seen'] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const c of req) body += c;
    seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${goodKey}`) return res.writeHead(401).end('{"error":{"message":"Invalid API key"}}');
    // OpenRouter's /key describes the key; Perplexity's empty chat is refused for its body.
    if (req.url === '/api/v1/key') return res.writeHead(200).end('{"data":{"label":"sk-or-v1-...5678"}}');
    if (req.method === 'POST' && req.url === '/chat/completions')
      return res.writeHead(400).end('{"error":{"message":"messages is empty"}}');
    res.writeHead(404).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let env: ProxyEnv;
let probed: Probed;

beforeAll(async () => {
  probed = await startProbedProvider('good-key-0000000000000000');
  // Groq on the mock upstream (OpenAI's wire format, which records what BYO sent); OpenRouter and Perplexity on the probe checker.
  env = await startProxyEnv((mock) => ({
    BYO_GROQ_BASE_URL: mock.baseUrls.openai,
    BYO_OPENROUTER_BASE_URL: `${probed.url}/api/v1`,
    BYO_PERPLEXITY_BASE_URL: probed.url,
  }));
  await env.connect('groq', 'cust_groq', GROQ_KEY);
}, 180_000);
afterAll(async () => {
  await env?.close();
  probed?.server.close();
});

function client(provider: string, refId: string, key = env.project.skLive): OpenAI {
  return new OpenAI({
    apiKey: key,
    baseURL: `${env.server.url}/v1/proxy/${provider}`,
    defaultHeaders: { 'X-BYO-Ref-Id': refId },
    maxRetries: 0,
  });
}

describe('OpenAI-compatible providers by name', () => {
  it('GET /v1/providers lists every registry provider with its credential fields, for a pk and an sk', async () => {
    for (const key of [env.project.pkLive, env.project.skLive]) {
      const res = await env.server.request('GET', '/v1/providers', { key });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.map((p: { id: string }) => p.id)).toEqual(PROVIDERS.map((p) => p.id));
      const groq = res.body.data.find((p: { id: string }) => p.id === 'groq');
      expect(groq).toMatchObject({
        name: 'Groq',
        proxyPath: '/v1/proxy/groq',
        wireFormat: 'openai',
        customBaseUrl: false,
        credentials: [
          { field: 'providerKey', secret: true, required: true, placeholder: 'gsk_...', helpUrl: 'https://console.groq.com/keys' },
        ],
      });
      expect(groq.baseUrl).toMatch(/\/openai\/v1$/); // the operator's BYO_GROQ_BASE_URL
      const openai = res.body.data.find((p: { id: string }) => p.id === 'openai');
      expect(openai.credentials.map((c: { field: string }) => c.field)).toEqual(['providerKey', 'providerConfig.baseUrl']);
    }
    expect((await env.server.request('GET', '/v1/providers')).status).toBe(401);
  });

  it('the official OpenAI SDK at /v1/proxy/groq: JSON, with the stored key as a bearer token, nothing of BYO forwarded', async () => {
    env.mock.reset();
    const res = await client('groq', 'cust_groq').chat.completions.create({
      model: 'llama-3.3-70b-versatile',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(res.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    const got = env.mock.last();
    expect(got?.method).toBe('POST');
    expect(got?.url).toBe('/openai/v1/chat/completions');
    expect(got?.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    const seen = allHeaderValues(got?.headers ?? {});
    expect(seen).not.toContain('byo_');
    expect(seen.toLowerCase()).not.toContain('x-byo-');
  });

  it('streams (SSE) and records the usage the stream reported, under its provider', async () => {
    const stream = await client('groq', 'cust_groq').chat.completions.create({
      model: 'llama-3.3-70b-versatile',
      messages: [{ role: 'user', content: 'Stream' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(SANDBOX_REPLY);
    const usage = await eventually(async () => {
      const r = await env.server.request('GET', '/v1/usage?provider=groq&refId=cust_groq', { key: env.project.skLive });
      return r.body.data?.length ? r.body.data : null;
    });
    expect(usage[0]).toMatchObject({ provider: 'groq', refId: 'cust_groq' });
    expect(usage[0].totalTokens).toBeGreaterThan(0);
  });

  it('test mode: the sandbox answers every compatible provider for the magic key', async () => {
    // Azure (an endpoint per key, its own paths) has its own tests: azure.test.ts.
    for (const p of PROVIDERS.filter((x) => x.wire === 'openai' && x.id !== 'openai' && !('config' in x))) {
      await env.connect(p.id, 'cust_sandbox', 'sk-byo-test-valid', { test: true });
      const res = await client(p.id, 'cust_sandbox', env.project.skTest).chat.completions.create({
        model: 'some-model',
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(res.choices[0]?.message.content, p.id).toBe(SANDBOX_REPLY);
    }
  });

  it('validation uses a probe that needs the key: OpenRouter /key, not its public model list', async () => {
    await env.connect('openrouter', 'cust_or', OPENROUTER_KEY);
    probed.seen.length = 0;
    const bad = await env.server.request('POST', '/v1/keys/validate', {
      key: env.project.skLive,
      body: { provider: 'openrouter', refId: 'cust_or' },
    });
    expect(bad.body).toMatchObject({ valid: false, result: 'invalid', providerStatus: 401 });
    expect(probed.seen).toEqual([{ method: 'GET', url: '/api/v1/key', auth: `Bearer ${OPENROUTER_KEY}`, body: '' }]);

    await env.connect('openrouter', 'cust_or_ok', 'good-key-0000000000000000');
    const good = await env.server.request('POST', '/v1/keys/validate', {
      key: env.project.skLive,
      body: { provider: 'openrouter', refId: 'cust_or_ok' },
    });
    expect(good.body).toMatchObject({ valid: true, result: 'valid', providerStatus: 200 });
  });

  it('validation of a provider with no key-checking list: an empty chat, 400 once the key passed, 401 when not', async () => {
    await env.connect('perplexity', 'cust_pplx', PPLX_KEY);
    await env.connect('perplexity', 'cust_pplx_ok', 'good-key-0000000000000000');
    probed.seen.length = 0;
    const bad = await env.server.request('POST', '/v1/keys/validate', {
      key: env.project.skLive,
      body: { provider: 'perplexity', refId: 'cust_pplx' },
    });
    expect(bad.body).toMatchObject({ valid: false, result: 'invalid' });
    const good = await env.server.request('POST', '/v1/keys/validate', {
      key: env.project.skLive,
      body: { provider: 'perplexity', refId: 'cust_pplx_ok' },
    });
    expect(good.body).toMatchObject({ valid: true, result: 'valid', providerStatus: 400 });
    expect(probed.seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      'POST /chat/completions {"model":"sonar","messages":[]}',
      'POST /chat/completions {"model":"sonar","messages":[]}',
    ]);
  });

  it('a compatible provider takes no custom base URL (that is openai with providerConfig.baseUrl)', async () => {
    const res = await env.server.request('POST', '/v1/keys/connect', {
      key: env.project.skLive,
      body: {
        provider: 'groq',
        refId: 'cust_groq_base',
        providerKey: GROQ_KEY,
        providerConfig: { baseUrl: 'https://openrouter.ai/api/v1' },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBeTruthy();
    expect((await env.server.request('GET', '/v1/keys/groq/cust_groq_base', { key: env.project.skLive })).status).toBe(404);
  });

  it('an unknown provider segment is a 404 naming the providers', async () => {
    const res = await fetch(`${env.server.url}/v1/proxy/nosuch/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'x', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('groq');
  });
});
