import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import AnthropicBedrock from '@anthropic-ai/bedrock-sdk';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { respondAs } from '../../src/sandbox/index.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { allHeaderValues, eventually } from './support.js';

/**
 * Amazon Bedrock through the proxy: the AWS SDK's BedrockRuntimeClient and AnthropicBedrock,
 * unmodified apart from endpoint, token and the ref-id header, against a local Bedrock that
 * recomputes every SigV4 signature with the customer's secret (a wrong secret, region, path
 * or payload hash is refused, as AWS refuses it) and against the test-mode sandbox.
 */

const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const API_KEY = 'ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleQ==';
const REGION = 'eu-west-3';
const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What the mock concluded of the credential. */
  auth: 'sigv4' | 'bearer' | 'refused';
}

/**
 * Recomputes the SigV4 signature of a received request with the known secret: the signed
 * headers as listed in its Authorization header, its exact path and query, its body's hash.
 */
async function sigv4Valid(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<boolean> {
  const auth = String(headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m || m[1] !== ACCESS_KEY_ID || m[3] !== REGION || m[4] !== 'bedrock') return false;
  const payloadHash = createHash('sha256').update(body).digest('hex');
  if (headers['x-amz-content-sha256'] !== payloadHash) return false;
  const signedNames = (m[5] as string).split(';');
  const signedHeaders: Record<string, string> = {};
  for (const name of signedNames) signedHeaders[name] = String(headers[name] ?? '');
  const u = new URL(url, 'http://placeholder');
  const query: Record<string, string> = {};
  for (const [k, v] of u.searchParams) query[k] = v;
  const amzDate = String(headers['x-amz-date']);
  const date = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    region: REGION,
    service: 'bedrock',
    sha256: Hash.bind(null, 'sha256'),
  });
  const { host = '' } = signedHeaders;
  const [hostname, port] = host.split(':');
  const expected = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: hostname as string,
      port: port ? Number(port) : undefined,
      path: u.pathname,
      query,
      headers: signedHeaders,
      body,
    },
    { signingDate: date },
  );
  return expected.headers.authorization === auth;
}

/** A Bedrock runtime on 127.0.0.1 that authenticates like AWS: SigV4 with the known secret, or the known API key. */
async function startBedrock(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? '/';
    const authz = String(req.headers.authorization ?? '');
    const auth =
      authz === `Bearer ${API_KEY}` ? 'bearer' : (await sigv4Valid(req.method ?? 'GET', url, req.headers, body)) ? 'sigv4' : 'refused';
    seen.push({ method: req.method ?? '', url, headers: req.headers, body, auth });
    if (auth === 'refused') {
      res.writeHead(403, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/',
      });
      return res.end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }));
    }
    const u = new URL(url, 'http://x');
    const path = u.pathname.replace(/^\/bedrock/, '');
    if (path.includes('model-not-enabled')) {
      res.writeHead(403, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/',
      });
      return res.end(JSON.stringify({ message: "You don't have access to the model with the specified model ID." }));
    }
    const out = respondAs('bedrock', {
      method: req.method ?? 'GET',
      path,
      query: u.searchParams,
      body: body.length ? JSON.parse(body.toString()) : undefined,
    });
    res.writeHead(out.status, out.headers);
    if (out.events) for (const e of out.events) res.write(e);
    res.end(out.body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bedrock`, seen };
}

let server: TestServer;
let sandboxServer: TestServer;
let project: TestProject;
let sandboxProject: TestProject;
let bedrock: Awaited<ReturnType<typeof startBedrock>>;

beforeAll(async () => {
  bedrock = await startBedrock();
  [server, sandboxServer] = await Promise.all([
    startTestServer({ BYO_BEDROCK_BASE_URL: bedrock.url, BYO_USAGE_FLUSH_INTERVAL: '50ms' }),
    startTestServer({ BYO_USAGE_FLUSH_INTERVAL: '50ms' }),
  ]);
  project = await server.createProject({ validateOnConnect: false });
  sandboxProject = await sandboxServer.createProject();
  for (const refId of ['cust_sig', 'cust_sig_stream', 'cust_denied']) {
    const res = await connect(server, project.skLive, {
      refId,
      providerKey: SECRET,
      providerConfig: { region: REGION, accessKeyId: ACCESS_KEY_ID },
    });
    expect(res.status, res.text).toBe(200);
  }
  const wrong = await connect(server, project.skLive, {
    refId: 'cust_wrong_secret',
    providerKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGSECRET',
    providerConfig: { region: REGION, accessKeyId: ACCESS_KEY_ID },
  });
  expect(wrong.status, wrong.text).toBe(200);
  const apiKey = await connect(server, project.skLive, { refId: 'cust_apikey', providerKey: API_KEY, providerConfig: { region: REGION } });
  expect(apiKey.status, apiKey.text).toBe(200);
  for (const refId of ['sb_1', 'sb_stream']) {
    const res = await connect(sandboxServer, sandboxProject.skTest, {
      refId,
      providerKey: 'sk-byo-test-valid',
      providerConfig: { region: 'us-east-1' },
    });
    expect(res.status, res.text).toBe(200);
  }
}, 180_000);

afterAll(async () => {
  await Promise.all([server?.close(), sandboxServer?.close()]);
  bedrock?.server.close();
});

function connect(s: TestServer, key: string, body: Record<string, unknown>) {
  return s.request('POST', '/v1/keys/connect', { key, body: { provider: 'bedrock', ...body } });
}

/** The AWS SDK as published, pointed at BYO: endpoint, the BYO secret key as its bearer token, and the customer's refId. */
function runtime(s: TestServer, key: string, refId: string): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: `${s.url}/v1/proxy/bedrock`,
    token: { token: key },
    authSchemePreference: ['httpBearerAuth'],
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-byo-ref-id'] = refId;
      return next(args);
    },
    { step: 'build', name: 'byoRefId' },
  );
  return client;
}

function anthropicBedrock(s: TestServer, key: string, refId: string): AnthropicBedrock {
  return new AnthropicBedrock({
    apiKey: key,
    awsRegion: 'us-east-1',
    baseURL: `${s.url}/v1/proxy/bedrock`,
    defaultHeaders: { 'X-BYO-Ref-Id': refId },
    maxRetries: 0,
  });
}

const converseInput = { modelId: MODEL, messages: [{ role: 'user' as const, content: [{ text: 'Hi' }] }] };

/** Nothing of BYO's reached Bedrock: no BYO key, no x-byo-* header. */
function expectNothingOfByo(seen: Seen | undefined): void {
  const all = allHeaderValues(seen?.headers ?? {});
  expect(all).not.toContain('byo_');
  expect(Object.keys(seen?.headers ?? {}).filter((h) => h.startsWith('x-byo-'))).toEqual([]);
}

describe('Bedrock with SigV4, against a runtime that checks every signature', () => {
  it('Converse: signed for the key’s region and service over the exact path and body', async () => {
    bedrock.seen.length = 0;
    const out = await runtime(server, project.skLive, 'cust_sig').send(new ConverseCommand(converseInput));
    expect(out.output?.message?.content?.[0]?.text).toBe(SANDBOX_REPLY);
    expect(out.usage?.inputTokens).toBeGreaterThan(0);
    expect(bedrock.seen).toHaveLength(1);
    expect(bedrock.seen[0]?.auth).toBe('sigv4');
    expect(bedrock.seen[0]?.url).toBe(`/bedrock/model/${encodeURIComponent(MODEL)}/converse`);
    expectNothingOfByo(bedrock.seen[0]);
  });

  it('ConverseStream: the AWS event stream reaches the SDK intact, and its usage is recorded', async () => {
    bedrock.seen.length = 0;
    const out = await runtime(server, project.skLive, 'cust_sig_stream').send(new ConverseStreamCommand(converseInput));
    let text = '';
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const ev of out.stream ?? []) {
      text += ev.contentBlockDelta?.delta?.text ?? '';
      if (ev.metadata) usage = ev.metadata.usage;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(bedrock.seen[0]?.auth).toBe('sigv4');
    const rows = await eventually(async () => {
      const r = await server.request('GET', '/v1/usage?provider=bedrock&refId=cust_sig_stream', { key: project.skLive });
      return r.body.data?.length ? r.body.data : null;
    });
    expect(rows[0]).toMatchObject({
      provider: 'bedrock',
      model: MODEL,
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
    });
  });

  it('InvokeModel and InvokeModelWithResponseStream with an Anthropic body', async () => {
    bedrock.seen.length = 0;
    const client = runtime(server, project.skLive, 'cust_sig');
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    const one = await client.send(
      new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json', accept: 'application/json' }),
    );
    expect(JSON.parse(Buffer.from(one.body).toString()).content[0].text).toBe(SANDBOX_REPLY);
    const streamed = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body, contentType: 'application/json' }));
    let text = '';
    for await (const ev of streamed.body ?? []) {
      const doc = JSON.parse(Buffer.from(ev.chunk?.bytes ?? new Uint8Array()).toString());
      if (doc.type === 'content_block_delta') text += doc.delta.text;
    }
    expect(text).toBe(SANDBOX_REPLY);
    expect(bedrock.seen.map((s) => s.auth)).toEqual(['sigv4', 'sigv4']);
    expect(bedrock.seen[1]?.url).toBe(`/bedrock/model/${encodeURIComponent(MODEL)}/invoke-with-response-stream`);
  });

  it('AnthropicBedrock messages.create, JSON and streamed', async () => {
    bedrock.seen.length = 0;
    const client = anthropicBedrock(server, project.skLive, 'cust_sig');
    const msg = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(msg.content[0]?.type === 'text' && msg.content[0].text).toBe(SANDBOX_REPLY);
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(await stream.finalText()).toBe(SANDBOX_REPLY);
    expect(bedrock.seen.map((s) => s.auth)).toEqual(['sigv4', 'sigv4']);
    for (const s of bedrock.seen) expectNothingOfByo(s);
  });

  it('validate: a signed ListAsyncInvokes the runtime accepts is valid', async () => {
    bedrock.seen.length = 0;
    const ok = await server.request('POST', '/v1/keys/validate', { key: project.skLive, body: { provider: 'bedrock', refId: 'cust_sig' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.result).toBe('valid');
    expect(bedrock.seen[0]?.url).toBe('/bedrock/async-invoke?maxResults=1');
    expect(bedrock.seen[0]?.auth).toBe('sigv4');
  });

  it('a Bedrock API key is sent as Bearer, unsigned', async () => {
    bedrock.seen.length = 0;
    const out = await runtime(server, project.skLive, 'cust_apikey').send(new ConverseCommand(converseInput));
    expect(out.output?.message?.content?.[0]?.text).toBe(SANDBOX_REPLY);
    expect(bedrock.seen[0]?.auth).toBe('bearer');
    expect(bedrock.seen[0]?.headers['x-amz-date']).toBeUndefined();
  });

  it('a wrong secret: AWS refuses the signature, the caller gets AWS’s answer, and the key is disabled', async () => {
    const err = await runtime(server, project.skLive, 'cust_wrong_secret')
      .send(new ConverseCommand(converseInput))
      .catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
    expect((err as { name: string }).name).toBe('InvalidSignatureException');
    const key = await eventually(async () => {
      const r = await server.request('GET', '/v1/keys/bedrock/cust_wrong_secret', { key: project.skLive });
      return r.body.status === 'disabled' ? r.body : null;
    });
    expect(key.status).toBe('disabled');
  });

  it('a 403 about the request (a model not enabled) reaches the caller and leaves the key active', async () => {
    const err = (await runtime(server, project.skLive, 'cust_denied')
      .send(new ConverseCommand({ ...converseInput, modelId: 'model-not-enabled' }))
      .catch((e: unknown) => e)) as { name: string };
    expect(err.name).toBe('AccessDeniedException');
    await new Promise((r) => setTimeout(r, 200));
    const key = await server.request('GET', '/v1/keys/bedrock/cust_denied', { key: project.skLive });
    expect(key.body.status).toBe('active');
  });

  it('BYO’s own errors come in AWS’s shape: the AWS SDK raises a typed exception carrying BYO’s code', async () => {
    const err = (await runtime(server, project.skLive, 'nobody')
      .send(new ConverseCommand(converseInput))
      .catch((e: unknown) => e)) as { name: string; code: string; $metadata: { httpStatusCode: number } };
    expect(err.$metadata.httpStatusCode).toBe(404);
    expect(err.name).toBe('ResourceNotFoundException');
    expect(err.code).toBe('key_not_found');
  });
});

describe('Bedrock in test mode: the sandbox answers in AWS’s wire format', () => {
  it('Converse, ConverseStream (a real event stream), InvokeModel and AnthropicBedrock', async () => {
    const client = runtime(sandboxServer, sandboxProject.skTest, 'sb_1');
    const a = await client.send(new ConverseCommand(converseInput));
    expect(a.output?.message?.content?.[0]?.text).toBe(SANDBOX_REPLY);
    const b = await client.send(new ConverseStreamCommand(converseInput));
    let text = '';
    for await (const ev of b.stream ?? []) text += ev.contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe(SANDBOX_REPLY);
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    const c = await client.send(new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }));
    expect(JSON.parse(Buffer.from(c.body).toString()).content[0].text).toBe(SANDBOX_REPLY);
    const stream = anthropicBedrock(sandboxServer, sandboxProject.skTest, 'sb_stream').messages.stream({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(await stream.finalText()).toBe(SANDBOX_REPLY);
    const rows = await eventually(async () => {
      const r = await sandboxServer.request('GET', '/v1/usage?provider=bedrock&refId=sb_stream', { key: sandboxProject.skTest });
      return r.body.data?.length ? r.body.data : null;
    });
    expect(rows[0].outputTokens).toBeGreaterThan(0);
  });
});

describe('Bedrock in test mode: the magic invalid key', () => {
  it('is refused as AWS refuses an unknown key (UnrecognizedClientException) and the key is disabled', async () => {
    const p = await sandboxServer.createProject({ validateOnConnect: false });
    const c = await connect(sandboxServer, p.skTest, {
      refId: 'sb_bad',
      providerKey: 'sk-byo-test-invalid',
      providerConfig: { region: 'us-east-1' },
    });
    expect(c.status, c.text).toBe(200);
    const err = (await runtime(sandboxServer, p.skTest, 'sb_bad')
      .send(new ConverseCommand(converseInput))
      .catch((e: unknown) => e)) as { name: string };
    expect(err.name).toBe('UnrecognizedClientException');
    const key = await eventually(async () => {
      const r = await sandboxServer.request('GET', '/v1/keys/bedrock/sb_bad', { key: p.skTest });
      return r.body.status === 'disabled' ? r.body : null;
    });
    expect(key.status).toBe('disabled');
  });
});

describe('Bedrock credentials are checked at connect', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a region that is not an AWS region',
      { providerKey: SECRET, providerConfig: { region: 'mars-1', accessKeyId: ACCESS_KEY_ID } },
      'providerConfig.region',
    ],
    ['no region', { providerKey: SECRET, providerConfig: { accessKeyId: ACCESS_KEY_ID } }, 'providerConfig.region'],
    [
      'an access key id without its secret (an API key in providerKey)',
      { providerKey: 'short', providerConfig: { region: REGION, accessKeyId: ACCESS_KEY_ID } },
      'providerKey',
    ],
    [
      'a malformed access key id',
      { providerKey: SECRET, providerConfig: { region: REGION, accessKeyId: 'not-a-key-id' } },
      'providerConfig.accessKeyId',
    ],
    [
      'a temporary access key id',
      { providerKey: SECRET, providerConfig: { region: REGION, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' } },
      'providerConfig.accessKeyId',
    ],
    // Another id than the stored keys' (the leak scan counts every providerKey sent as a secret; an access key id is not one).
    ['an access key id as providerKey', { providerKey: 'AKIAI44QH8DHBEXAMPLE', providerConfig: { region: REGION } }, 'providerKey'],
  ];
  for (const [name, body, field] of cases) {
    it(`${name}: 400 invalid_credential naming ${field}, nothing stored`, async () => {
      const res = await connect(server, project.skLive, { refId: 'cust_bad', ...body });
      expect(res.status, res.text).toBe(400);
      const code = res.body.code;
      expect(['invalid_credential', 'validation_failed']).toContain(code);
      if (code === 'invalid_credential') expect(res.body.issues?.[0]?.path).toBe(field);
      expect(res.text).not.toContain(SECRET);
      const stored = await server.request('GET', '/v1/keys/bedrock/cust_bad', { key: project.skLive });
      expect(stored.status).toBe(404);
    });
  }

  it('the key view shows the region and a hint of the access key id, never the secret', async () => {
    const r = await server.request('GET', '/v1/keys/bedrock/cust_sig', { key: project.skLive });
    expect(r.body.keyHint).toBe('AKIA...MPLE');
    expect(r.text).not.toContain(SECRET);
  });
});
