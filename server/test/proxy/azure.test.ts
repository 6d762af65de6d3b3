import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { respondAs } from '../../src/sandbox/index.js';
import { JsonUsageTap, SseUsageTap } from '../../src/usage/extract.js';
import { installDnsGuard } from '../helpers/dns-guard.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { allHeaderValues, eventually } from './support.js';

/**
 * Azure OpenAI: a key comes with its resource's endpoint, `/v1/proxy/azure/{path}`
 * goes to `{endpoint}/{path}` with the stored key as `api-key`, and the official AzureOpenAI
 * client works unchanged, against a local Azure resource (which checks what BYO sends) and
 * against the test-mode sandbox.
 */

const AZURE_KEY = '3f9c2b7e4a1d4c8e9b0a6f5e2d1c0b9a';
const API_VERSION = '2024-10-21';
const AZURE_401 =
  'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** An Azure OpenAI resource on 127.0.0.1: Azure's 401 for any other key, the sandbox's Azure answers otherwise. */
async function startAzureResource(status?: number): Promise<{ server: Server; endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const c of req) text += c;
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    if (status) return res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":{"code":"503","message":"busy"}}');
    const out =
      url.pathname.startsWith('/openai/') && req.headers['api-key'] !== AZURE_KEY
        ? {
            status: 401,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error: { code: '401', message: AZURE_401 } }),
          }
        : respondAs('azure', {
            method: req.method ?? 'GET',
            path: url.pathname,
            query: url.searchParams,
            body: text ? JSON.parse(text) : undefined,
          });
    res.writeHead(out.status, out.headers);
    if (out.events) for (const e of out.events) res.write(e);
    res.end(out.body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let dns: ReturnType<typeof installDnsGuard>;
let server: TestServer;
let project: TestProject;
let azure: Awaited<ReturnType<typeof startAzureResource>>;
let busy: Awaited<ReturnType<typeof startAzureResource>>;

beforeAll(async () => {
  // No DNS query leaves this machine: names resolve only as `answers` say (a private address here).
  dns = installDnsGuard({ 'internal.openai.azure.com': '10.1.2.3' });
  azure = await startAzureResource();
  busy = await startAzureResource(503);
  // A bare IP in the operator's allow-list: http to it is allowed (it was stored as a range only, and refused).
  server = await startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1', BYO_USAGE_FLUSH_INTERVAL: '50ms' });
  project = await server.createProject();
  for (const refId of ['cust_az', 'cust_az_stream']) {
    const res = await connect(project.skLive, { refId, providerKey: AZURE_KEY, providerConfig: { endpoint: azure.endpoint } });
    expect(res.status, res.text).toBe(200);
  }
}, 180_000);
afterAll(async () => {
  await server?.close();
  azure?.server.close();
  busy?.server.close();
  dns?.restore();
});

function connect(key: string, body: Record<string, unknown>) {
  return server.request('POST', '/v1/keys/connect', { key, body: { provider: 'azure', ...body } });
}

function azureClient(refId: string, opts: { key?: string; deployment?: string } = {}): AzureOpenAI {
  return new AzureOpenAI({
    endpoint: `${server.url}/v1/proxy/azure`,
    apiKey: opts.key ?? project.skLive,
    apiVersion: API_VERSION,
    ...(opts.deployment ? { deployment: opts.deployment } : {}),
    defaultHeaders: { 'X-BYO-Ref-Id': refId },
    maxRetries: 0,
  });
}

/** The v1 API (`/openai/v1`) with the plain OpenAI client, which sends the BYO key as a bearer token. */
function v1Client(refId: string, key = project.skLive): OpenAI {
  return new OpenAI({
    baseURL: `${server.url}/v1/proxy/azure/openai/v1`,
    apiKey: key,
    defaultHeaders: { 'X-BYO-Ref-Id': refId },
    maxRetries: 0,
  });
}

/** What the resource received: the stored key as api-key, nothing of BYO's. */
function expectOnlyAzureKey(seen: Seen | undefined): void {
  expect(seen?.headers['api-key']).toBe(AZURE_KEY);
  expect(seen?.headers.authorization).toBeUndefined();
  const all = allHeaderValues(seen?.headers ?? {});
  expect(all).not.toContain('byo_');
  expect(all.toLowerCase()).not.toContain('x-byo-');
}

describe('Azure OpenAI through the proxy, against a resource that checks what it receives', () => {
  it('deployment chat completions (JSON): the exact path and api-version, the stored key as api-key', async () => {
    azure.seen.length = 0;
    const res = await azureClient('cust_az', { deployment: 'gpt-4o-mini' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(res.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(azure.seen).toHaveLength(1);
    expect(azure.seen[0]?.method).toBe('POST');
    expect(azure.seen[0]?.url).toBe(`/openai/deployments/gpt-4o-mini/chat/completions?api-version=${API_VERSION}`);
    expectOnlyAzureKey(azure.seen[0]);
  });

  it('streams (SSE) and records the usage under azure, with the model the response names', async () => {
    azure.seen.length = 0;
    const stream = await azureClient('cust_az_stream', { deployment: 'gpt-4o-mini' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(SANDBOX_REPLY);
    expect(azure.seen[0]?.url).toBe(`/openai/deployments/gpt-4o-mini/chat/completions?api-version=${API_VERSION}`);
    expectOnlyAzureKey(azure.seen[0]);
  });

  it('embeddings: the model names the deployment', async () => {
    azure.seen.length = 0;
    const res = await azureClient('cust_az').embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(res.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(azure.seen[0]?.url).toBe(`/openai/deployments/text-embedding-3-small/embeddings?api-version=${API_VERSION}`);
    expectOnlyAzureKey(azure.seen[0]);
  });

  it('the Responses API: /openai/responses?api-version= (AzureOpenAI) and the v1 API /openai/v1/responses (bearer BYO key)', async () => {
    azure.seen.length = 0;
    const a = await azureClient('cust_az').responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
    expect(a.output_text).toBe(SANDBOX_REPLY);
    const b = await v1Client('cust_az').responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
    expect(b.output_text).toBe(SANDBOX_REPLY);
    expect(azure.seen.map((s) => s.url)).toEqual([`/openai/responses?api-version=${API_VERSION}`, '/openai/v1/responses']);
    for (const s of azure.seen) expectOnlyAzureKey(s);
  });

  it('the streamed call’s usage is recorded under azure, with the deployment the response names', async () => {
    const rows = await eventually(async () => {
      const r = await server.request('GET', '/v1/usage?provider=azure&refId=cust_az_stream', { key: project.skLive });
      return r.body.data?.length ? r.body.data : null;
    });
    expect(rows[0]).toMatchObject({ provider: 'azure', refId: 'cust_az_stream', model: 'gpt-4o-mini' });
    expect(rows[0].totalTokens).toBeGreaterThan(0);
  });

  it('the key view shows the endpoint (baseUrl), never the key', async () => {
    const res = await server.request('GET', '/v1/keys/azure/cust_az', { key: project.skLive });
    expect(res.body).toMatchObject({ provider: 'azure', baseUrl: azure.endpoint });
    expect(res.text).not.toContain(AZURE_KEY);
  });

  it('the catalog lists azure with its endpoint and key fields', async () => {
    const res = await server.request('GET', '/v1/providers', { key: project.pkLive });
    const entry = res.body.data.find((p: { id: string }) => p.id === 'azure');
    expect(entry).toMatchObject({ name: 'Azure OpenAI', proxyPath: '/v1/proxy/azure', wireFormat: 'openai', customBaseUrl: false });
    expect(entry.credentials).toMatchObject([
      {
        field: 'providerConfig.endpoint',
        label: 'Endpoint',
        secret: false,
        required: true,
        placeholder: 'https://<resource>.openai.azure.com',
      },
      { field: 'providerKey', secret: true, required: true },
    ]);
    expect(entry.credentials[0].helpUrl).toMatch(/^https:\/\/learn\.microsoft\.com\//);
  });
});

describe('connecting an Azure key: the endpoint', () => {
  const stored = async (refId: string) => (await server.request('GET', `/v1/keys/azure/${refId}`, { key: project.skLive })).status;

  it('is required, and refused off Azure hosts, over http, with credentials, a path, or at a private address: nothing stored', async () => {
    const cases: [string, Record<string, unknown> | undefined, string][] = [
      ['az_none', undefined, 'validation_failed'],
      ['az_http', { endpoint: 'http://my-resource.openai.azure.com' }, 'invalid_base_url'],
      ['az_other', { endpoint: 'https://api.openai.com' }, 'invalid_base_url'],
      ['az_lookalike', { endpoint: 'https://openai.azure.com.evil.test' }, 'invalid_base_url'],
      ['az_bare_suffix', { endpoint: 'https://openai.azure.com' }, 'invalid_base_url'],
      ['az_userinfo', { endpoint: 'https://user:pass@my-resource.openai.azure.com' }, 'validation_failed'],
      ['az_path', { endpoint: 'https://my-resource.openai.azure.com/openai/v1' }, 'validation_failed'],
      ['az_private', { endpoint: 'https://internal.openai.azure.com' }, 'invalid_base_url'],
      ['az_ip', { endpoint: 'https://10.0.0.1' }, 'invalid_base_url'],
      ['az_baseurl', { baseUrl: 'https://my-resource.openai.azure.com' }, 'invalid_base_url'],
    ];
    for (const [refId, providerConfig, code] of cases) {
      const res = await connect(project.skLive, { refId, providerKey: AZURE_KEY, ...(providerConfig ? { providerConfig } : {}) });
      expect(res.status, `${refId}: ${res.text}`).toBe(400);
      expect(res.body.code, refId).toBe(code);
      expect(res.text).not.toContain(AZURE_KEY);
      expect(res.text).not.toContain('pass@');
      expect(await stored(refId), refId).toBe(404);
    }
  });

  it('the private-address refusal says why', async () => {
    const res = await connect(project.skLive, {
      refId: 'az_private2',
      providerKey: AZURE_KEY,
      providerConfig: { endpoint: 'https://internal.openai.azure.com' },
    });
    expect(res.body.message).toMatch(/private/);
  });

  it('is refused for any other provider', async () => {
    for (const provider of ['openai', 'groq', 'anthropic']) {
      const res = await server.request('POST', '/v1/keys/connect', {
        key: project.skLive,
        body: {
          provider,
          refId: `ep_${provider}`,
          providerKey: AZURE_KEY,
          providerConfig: { endpoint: 'https://my-resource.openai.azure.com' },
        },
      });
      expect(res.status, provider).toBe(400);
      expect(res.body.code, provider).toBe('invalid_base_url');
      expect((await server.request('GET', `/v1/keys/${provider}/ep_${provider}`, { key: project.skLive })).status).toBe(404);
    }
  });

  it('an Azure host is the provider’s own: a publishable key may name it (test mode, sandbox key)', async () => {
    const res = await connect(project.pkTest, {
      refId: 'az_pk',
      providerKey: 'sk-byo-test-valid',
      providerConfig: { endpoint: 'https://my-resource.openai.azure.com/' },
    });
    expect(res.status, res.text).toBe(200);
    const meta = await server.request('GET', '/v1/keys/azure/az_pk', { key: project.skTest });
    expect(meta.body.baseUrl).toBe('https://my-resource.openai.azure.com');
  });

  it('an operator-allowed host off Azure still needs the project’s leave for a publishable key', async () => {
    const res = await connect(project.pkTest, {
      refId: 'az_pk_local',
      providerKey: 'sk-byo-test-valid',
      providerConfig: { endpoint: azure.endpoint },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('invalid_base_url');
  });
});

describe('an allow-listed bare IP may use http (BYO_ALLOWED_UPSTREAM_HOSTS=127.0.0.1)', () => {
  const withBase = (refId: string, baseUrl: string) =>
    server.request('POST', '/v1/keys/connect', {
      key: project.skLive,
      body: { provider: 'openai', refId, providerKey: 'sk-proj-bare-ip-0000000000000000', providerConfig: { baseUrl } },
    });

  it('a custom base URL http://127.0.0.1:<port>/v1 is accepted, as the docs say (it was refused: "must use https")', async () => {
    const res = await withBase('bare_ip', `${azure.endpoint}/v1`);
    expect(res.status, res.text).toBe(200);
  });

  it('http to an address that is not allow-listed stays refused', async () => {
    const res = await withBase('bare_ip2', 'http://127.0.0.2:8000/v1');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_base_url');
  });
});

describe('validation: invalid (the resource rejects the key) apart from unreachable', () => {
  const validate = (refId: string) =>
    server.request('POST', '/v1/keys/validate', { key: project.skLive, body: { provider: 'azure', refId } });

  it('probes GET {endpoint}/openai/models?api-version=2024-10-21 with the key as api-key', async () => {
    azure.seen.length = 0;
    const res = await validate('cust_az');
    expect(res.body).toMatchObject({ valid: true, result: 'valid', providerStatus: 200 });
    expect(azure.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /openai/models?api-version=2024-10-21']);
    expectOnlyAzureKey(azure.seen[0]);
  });

  it('a key the resource refuses (401) is invalid; connect refuses it where the project validates on connect', async () => {
    expect(
      (
        await connect(project.skLive, {
          refId: 'az_wrong',
          providerKey: 'wrong-key-000000000000',
          providerConfig: { endpoint: azure.endpoint },
        })
      ).status,
    ).toBe(200);
    expect((await validate('az_wrong')).body).toMatchObject({ valid: false, result: 'invalid', providerStatus: 401 });

    const strict = await server.createProject({ validateOnConnect: true });
    const res = await server.request('POST', '/v1/keys/connect', {
      key: strict.skLive,
      body: { provider: 'azure', refId: 'az_wrong', providerKey: 'wrong-key-000000000000', providerConfig: { endpoint: azure.endpoint } },
    });
    expect(res.status, res.text).toBe(422);
    expect(res.body.code).toBe('key_invalid');
  });

  it('a 5xx, a closed port and a name that does not resolve are unknown, not invalid', async () => {
    const closed = await startAzureResource();
    const closedEndpoint = closed.endpoint;
    await new Promise((r) => closed.server.close(r));
    const endpoints: [string, string][] = [
      ['az_busy', busy.endpoint],
      ['az_closed', closedEndpoint],
      ['az_gone', 'https://gone.openai.azure.com'],
    ];
    for (const [refId, endpoint] of endpoints) {
      const c = await connect(project.skLive, { refId, providerKey: AZURE_KEY, providerConfig: { endpoint } });
      expect(c.status, `${refId}: ${c.text}`).toBe(200);
      const res = await validate(refId);
      expect(res.body, refId).toMatchObject({ valid: false, result: 'unknown' });
    }
    expect((await validate('az_busy')).body.providerStatus).toBe(503);
  });
});

describe('test mode: the sandbox answers Azure’s paths for any endpoint', () => {
  beforeAll(async () => {
    for (const [refId, key] of [
      ['sbx', 'sk-byo-test-valid'],
      ['sbx_bad', 'sk-byo-test-invalid'],
    ]) {
      const res = await connect(project.skTest, {
        refId,
        providerKey: key,
        providerConfig: { endpoint: 'https://my-resource.openai.azure.com' },
      });
      expect(res.status, res.text).toBe(200);
    }
  });

  it('AzureOpenAI: chat (JSON and stream), embeddings, responses; the v1 API', async () => {
    const client = azureClient('sbx', { key: project.skTest, deployment: 'my-gpt' });
    const json = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(json.choices[0]?.message.content).toBe(SANDBOX_REPLY);
    expect(json.model).toBe('my-gpt');
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(SANDBOX_REPLY);
    const emb = await azureClient('sbx', { key: project.skTest }).embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(emb.data[0]?.embedding.length).toBeGreaterThan(0);
    const resp = await azureClient('sbx', { key: project.skTest }).responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
    expect(resp.output_text).toBe(SANDBOX_REPLY);
    const v1 = await v1Client('sbx', project.skTest).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(v1.choices[0]?.message.content).toBe(SANDBOX_REPLY);
  });

  it('a deployment path without api-version is Azure’s 404', async () => {
    const res = await fetch(`${server.url}/v1/proxy/azure/openai/deployments/my-gpt/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': project.skTest, 'x-byo-ref-id': 'sbx', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });
  });

  it('sk-byo-test-invalid gets Azure’s own 401', async () => {
    const err = await azureClient('sbx_bad', { key: project.skTest, deployment: 'my-gpt' })
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).error).toEqual({ code: '401', message: AZURE_401 });
  });
});

describe('usage from Azure’s own shapes', () => {
  const filters = '"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"}}';

  it('a stream whose first chunk carries the prompt filter results and an empty model', () => {
    const tap = new SseUsageTap();
    for (const data of [
      `{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,${filters}}]}`,
      `{"choices":[{${filters},"delta":{"content":"Hi","role":"assistant"},"finish_reason":null,"index":0}],"created":1,"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","usage":null}`,
      '{"choices":[],"created":1,"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","usage":{"completion_tokens":9,"prompt_tokens":11,"total_tokens":20}}',
    ])
      tap.push(Buffer.from(`data: ${data}\n\n`));
    tap.push(Buffer.from('data: [DONE]\n\n'));
    expect(tap.finish()).toEqual({ model: 'gpt-4o-mini-2024-07-18', inputTokens: 11, outputTokens: 9, totalTokens: 20 });
  });

  it('a JSON completion, the model after the choices and the usage after the filter results', () => {
    const tap = new JsonUsageTap();
    tap.push(
      Buffer.from(
        `{"choices":[{${filters},"finish_reason":"stop","index":0,"message":{"content":"Hi","role":"assistant"}}],"created":1,"id":"chatcmpl-1","model":"gpt-4o-2024-11-20","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,${filters}}],"system_fingerprint":"fp_1","usage":{"completion_tokens":2,"prompt_tokens":8,"total_tokens":10}}`,
      ),
    );
    expect(tap.finish()).toEqual({ model: 'gpt-4o-2024-11-20', inputTokens: 8, outputTokens: 2, totalTokens: 10 });
  });
});
