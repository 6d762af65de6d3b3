import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_REPLY } from '../../src/sandbox/content.js';
import { respondAs } from '../../src/sandbox/index.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { allHeaderValues, eventually } from './support.js';

/**
 * Google Vertex AI through the proxy: the stored service-account key is exchanged for an
 * access token at the key's token_uri (a local one that checks the JWT's RS256 signature
 * against the account's public key and its claims), the token is cached and shared, and
 * Vertex (a local one that accepts only tokens it issued) sees nothing of BYO's. The clients
 * are AnthropicVertex and @google/genai in Vertex mode, unmodified apart from base URL, the
 * auth client that presents the BYO secret key, and the ref-id header.
 */

const PROJECT = 'acme-prod-42';
const LOCATION = 'europe-west4';
const EMAIL = 'byo-test@acme-prod-42.iam.gserviceaccount.com';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

function keyPair(): { privatePem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

/** Google's token endpoint and Vertex, on 127.0.0.1: JWT-bearer grants checked like Google checks them. */
async function startGoogle(accounts: Map<string, KeyObject>) {
  const issued = new Set<string>();
  const exchanges: { iss: string; at: number }[] = [];
  const seen: Seen[] = [];
  let tokenDelayMs = 0;
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const c of req) text += c;
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/token') {
      const form = new URLSearchParams(text);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type' });
      const [h = '', c = '', sig = ''] = (form.get('assertion') ?? '').split('.');
      const header = JSON.parse(Buffer.from(h, 'base64url').toString());
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
      const key = accounts.get(claims.iss);
      const now = Math.floor(Date.now() / 1000);
      const ok =
        header.alg === 'RS256' &&
        key !== undefined &&
        verify('sha256', Buffer.from(`${h}.${c}`), key, Buffer.from(sig, 'base64url')) &&
        claims.aud === `${origin}/token` &&
        claims.scope === 'https://www.googleapis.com/auth/cloud-platform' &&
        Math.abs(claims.iat - now) < 60 &&
        claims.exp - claims.iat <= 3600;
      if (!ok) return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      exchanges.push({ iss: claims.iss, at: Date.now() });
      if (tokenDelayMs) await new Promise((r) => setTimeout(r, tokenDelayMs));
      const token = `ya29.mock-${exchanges.length}-${Math.random().toString(36).slice(2)}`;
      issued.add(token);
      return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    seen.push({ url: req.url ?? '', headers: req.headers });
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!issued.has(bearer))
      return json(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    const out = respondAs('vertex', {
      method: req.method ?? 'GET',
      path: url.pathname.replace(/^\/vertex/, ''),
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
    });
    res.writeHead(out.status, out.headers);
    if (out.events) for (const e of out.events) res.write(e);
    res.end(out.body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    origin,
    issued,
    exchanges,
    seen,
    setTokenDelay: (ms: number) => {
      tokenDelayMs = ms;
    },
  };
}

function keyFile(tokenUri: string, privatePem: string, email = EMAIL, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: '3f2a9c1b7e5d4a6f8b0c2d4e6f8a0b1c2d3e4f5a',
    private_key: privatePem,
    client_email: email,
    client_id: '112233445566778899000',
    token_uri: tokenUri,
    ...extra,
  });
}

/** What byo-sdk exports as `byoGoogleAuth()`: a Google auth client that presents the BYO secret key. */
function byoAuth(key: string) {
  return { getRequestHeaders: async () => new Headers({ Authorization: `Bearer ${key}` }) };
}

let server: TestServer;
let project: TestProject;
let google: Awaited<ReturnType<typeof startGoogle>>;
const accounts = new Map<string, KeyObject>();
const main = keyPair();
const deleted = keyPair();

beforeAll(async () => {
  accounts.set(EMAIL, main.publicKey);
  google = await startGoogle(accounts);
  server = await startTestServer({
    BYO_VERTEX_BASE_URL: `${google.origin}/vertex`,
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_USAGE_FLUSH_INTERVAL: '50ms',
  });
  project = await server.createProject({ validateOnConnect: false });
  const file = keyFile(`${google.origin}/token`, main.privatePem);
  for (const refId of ['cust_v', 'cust_v_stream', 'cust_concurrent', 'cust_rest']) {
    const res = await connect(project.skLive, { refId, providerKey: file, providerConfig: { location: LOCATION } });
    expect(res.status, res.text).toBe(200);
  }
  const gone = await connect(project.skLive, {
    refId: 'cust_deleted',
    providerKey: keyFile(`${google.origin}/token`, deleted.privatePem),
    providerConfig: { location: LOCATION },
  });
  expect(gone.status, gone.text).toBe(200);
  const sb = await connect(project.skTest, {
    refId: 'sb',
    providerKey: 'sk-byo-test-valid',
    providerConfig: { location: 'us-east5', projectId: PROJECT },
  });
  expect(sb.status, sb.text).toBe(200);
}, 180_000);

afterAll(async () => {
  await server?.close();
  google?.server.close();
});

function connect(key: string, body: Record<string, unknown>) {
  return server.request('POST', '/v1/keys/connect', { key, body: { provider: 'vertex', ...body } });
}

function anthropicVertex(refId: string, opts: { key?: string; region?: string; projectId?: string } = {}): AnthropicVertex {
  return new AnthropicVertex({
    region: opts.region ?? LOCATION,
    projectId: opts.projectId ?? PROJECT,
    baseURL: `${server.url}/v1/proxy/vertex/v1`,
    authClient: byoAuth(opts.key ?? project.skLive) as never,
    defaultHeaders: { 'X-BYO-Ref-Id': refId },
    maxRetries: 0,
  });
}

function genai(refId: string, opts: { key?: string; location?: string } = {}): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: true,
    project: PROJECT,
    location: opts.location ?? LOCATION,
    googleAuthOptions: { authClient: byoAuth(opts.key ?? project.skLive) as never },
    httpOptions: { baseUrl: `${server.url}/v1/proxy/vertex`, headers: { 'X-BYO-Ref-Id': refId } },
  });
}

function expectNothingOfByo(seen: Seen | undefined): void {
  expect(seen?.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
  expect(allHeaderValues(seen?.headers ?? {})).not.toContain('byo_');
  expect(Object.keys(seen?.headers ?? {}).filter((h) => h.startsWith('x-byo-'))).toEqual([]);
}

describe('Vertex AI with a service-account key, against a token endpoint and Vertex that check what they get', () => {
  it('AnthropicVertex messages.create: a minted token, the key’s project and location, nothing of BYO’s', async () => {
    google.seen.length = 0;
    const msg = await anthropicVertex('cust_v').messages.create({
      model: 'claude-sonnet-4-5@20250929',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(msg.content[0]?.type === 'text' && msg.content[0].text).toBe(SANDBOX_REPLY);
    expect(google.seen[0]?.url).toBe(
      `/vertex/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`,
    );
    expectNothingOfByo(google.seen[0]);
  });

  it('AnthropicVertex streamed, and its usage recorded', async () => {
    const stream = anthropicVertex('cust_v_stream').messages.stream({
      model: 'claude-sonnet-4-5@20250929',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(await stream.finalText()).toBe(SANDBOX_REPLY);
    const rows = await eventually(async () => {
      const r = await server.request('GET', '/v1/usage?provider=vertex&refId=cust_v_stream', { key: project.skLive });
      return r.body.data?.length ? r.body.data : null;
    });
    expect(rows[0]).toMatchObject({ provider: 'vertex' });
    expect(rows[0].outputTokens).toBeGreaterThan(0);
  });

  it('@google/genai in Vertex mode: generateContent and generateContentStream', async () => {
    google.seen.length = 0;
    const ai = genai('cust_v');
    const one = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });
    expect(one.text).toBe(SANDBOX_REPLY);
    let text = '';
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' }))
      text += chunk.text ?? '';
    expect(text).toBe(SANDBOX_REPLY);
    expect(google.seen.map((s) => s.url.replace(/\?.*$/, ''))).toEqual([
      `/vertex/v1beta1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/gemini-2.5-flash:generateContent`,
      `/vertex/v1beta1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/gemini-2.5-flash:streamGenerateContent`,
    ]);
    for (const s of google.seen) expectNothingOfByo(s);
  });

  it('plain REST: :generateContent, :streamGenerateContent?alt=sse, :rawPredict, :streamRawPredict', async () => {
    const base = `${server.url}/v1/proxy/vertex/v1/projects/${PROJECT}/locations/${LOCATION}/publishers`;
    const headers = { authorization: `Bearer ${project.skLive}`, 'x-byo-ref-id': 'cust_rest', 'content-type': 'application/json' };
    const gemini = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    const claude = JSON.stringify({ anthropic_version: 'vertex-2023-10-16', max_tokens: 32, messages: [{ role: 'user', content: 'Hi' }] });
    const a = await fetch(`${base}/google/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers, body: gemini });
    expect((await a.json()).candidates[0].content.parts[0].text).toBe(SANDBOX_REPLY);
    const b = await fetch(`${base}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers,
      body: gemini,
    });
    expect(b.headers.get('content-type')).toContain('text/event-stream');
    expect(await b.text()).toContain('"usageMetadata"');
    const c = await fetch(`${base}/anthropic/models/claude-haiku-4-5@20251001:rawPredict`, { method: 'POST', headers, body: claude });
    expect((await c.json()).content[0].text).toBe(SANDBOX_REPLY);
    const d = await fetch(`${base}/anthropic/models/claude-haiku-4-5@20251001:streamRawPredict`, { method: 'POST', headers, body: claude });
    expect(await d.text()).toContain('event: message_stop');
  });

  it('one token per key, reused across calls; twenty concurrent first calls share one exchange', async () => {
    const before = google.exchanges.length;
    google.setTokenDelay(150);
    try {
      const ai = genai('cust_concurrent');
      const all = await Promise.all(
        Array.from({ length: 20 }, () => ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' })),
      );
      for (const r of all) expect(r.text).toBe(SANDBOX_REPLY);
    } finally {
      google.setTokenDelay(0);
    }
    expect(google.exchanges.length - before).toBe(1);
    // A call to a key whose token is cached mints nothing.
    await genai('cust_concurrent').models.generateContent({ model: 'gemini-2.5-flash', contents: 'again' });
    expect(google.exchanges.length - before).toBe(1);
  });

  it('a path for another project or location is refused by BYO (400 path_mismatch), never sent to Google', async () => {
    google.seen.length = 0;
    const wrongLocation = await genai('cust_v', { location: 'us-central1' })
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' })
      .catch((e: unknown) => e as { status: number; message: string });
    expect((wrongLocation as { status: number }).status).toBe(400);
    expect((wrongLocation as { message: string }).message).toContain('path_mismatch');
    const wrongProject = (await anthropicVertex('cust_v', { projectId: 'someone-else' })
      .messages.create({ model: 'claude-haiku-4-5@20251001', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)) as { status: number; message: string };
    expect(wrongProject.status).toBe(400);
    expect(wrongProject.message).toContain(PROJECT);
    expect(google.seen).toHaveLength(0);
    const key = await server.request('GET', '/v1/keys/vertex/cust_v', { key: project.skLive });
    expect(key.body.status).toBe('active');
  });

  it('a deleted service-account key: Google refuses the grant, the call gets a coded error, and the key is disabled', async () => {
    const err = (await genai('cust_deleted')
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' })
      .catch((e: unknown) => e)) as { status: number; message: string };
    expect(err.status).toBe(422);
    expect(err.message).toContain('invalid_grant');
    const key = await eventually(async () => {
      const r = await server.request('GET', '/v1/keys/vertex/cust_deleted', { key: project.skLive });
      return r.body.status === 'disabled' ? r.body : null;
    });
    expect(key.status).toBe('disabled');
  });

  it('validate: the key is exchanged and Vertex asked: valid', async () => {
    const ok = await server.request('POST', '/v1/keys/validate', { key: project.skLive, body: { provider: 'vertex', refId: 'cust_v' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.result).toBe('valid');
    const gone = await server.request('POST', '/v1/keys/validate', {
      key: project.skLive,
      body: { provider: 'vertex', refId: 'cust_rest' },
    });
    expect(gone.body.result).toBe('valid');
  });

  it('the key view shows the service account and a hint, never the key file or a token', async () => {
    const r = await server.request('GET', '/v1/keys/vertex/cust_v', { key: project.skLive });
    expect(r.body.keyHint).toBe(`${EMAIL} (...3e4f5a)`.replace('(...3e4f5a)', '(...4f5a)'));
    expect(r.text).not.toContain('PRIVATE KEY');
    expect(r.text).not.toContain('ya29.');
  });
});

describe('Vertex in test mode: the sandbox answers Gemini and Claude paths', () => {
  it('AnthropicVertex and genai with the magic key', async () => {
    const msg = await anthropicVertex('sb', { key: project.skTest, region: 'us-east5' }).messages.create({
      model: 'claude-sonnet-4-5@20250929',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(msg.content[0]?.type === 'text' && msg.content[0].text).toBe(SANDBOX_REPLY);
    const r = await genai('sb', { key: project.skTest, location: 'us-east5' }).models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Hi',
    });
    expect(r.text).toBe(SANDBOX_REPLY);
  });
});

describe('Vertex in test mode: the magic invalid key', () => {
  it('gets Vertex’s 401 and the key is disabled, as a refused service-account key is', async () => {
    const p = await server.createProject({ validateOnConnect: false });
    const c = await connect(p.skTest, {
      refId: 'sb_bad',
      providerKey: 'sk-byo-test-invalid',
      providerConfig: { location: LOCATION, projectId: PROJECT },
    });
    expect(c.status, c.text).toBe(200);
    const err = (await genai('sb_bad', { key: p.skTest })
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' })
      .catch((e: unknown) => e)) as { status: number };
    expect(err.status).toBe(401);
    const key = await eventually(async () => {
      const r = await server.request('GET', '/v1/keys/vertex/sb_bad', { key: p.skTest });
      return r.body.status === 'disabled' ? r.body : null;
    });
    expect(key.status).toBe('disabled');
  });
});

describe('Vertex credentials are checked at connect', () => {
  const good = () => keyFile(`${google.origin}/token`, main.privatePem);
  const cases: [string, () => Record<string, unknown>, string][] = [
    ['malformed JSON', () => ({ providerKey: '{"type": "service_account",', providerConfig: { location: LOCATION } }), 'not JSON'],
    [
      'an API key instead of a key file',
      () => ({ providerKey: 'AIzaSyA-not-a-service-account', providerConfig: { location: LOCATION } }),
      'not JSON',
    ],
    [
      'another credential type',
      () => ({ providerKey: JSON.stringify({ type: 'authorized_user', client_id: 'x' }), providerConfig: { location: LOCATION } }),
      'authorized_user',
    ],
    [
      'no client_email',
      () => ({ providerKey: JSON.stringify({ ...JSON.parse(good()), client_email: undefined }), providerConfig: { location: LOCATION } }),
      'client_email',
    ],
    [
      'no private_key',
      () => ({ providerKey: JSON.stringify({ ...JSON.parse(good()), private_key: undefined }), providerConfig: { location: LOCATION } }),
      'private_key',
    ],
    [
      'an RSA key that does not parse',
      () => ({
        providerKey: keyFile(`${google.origin}/token`, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n'),
        providerConfig: { location: LOCATION },
      }),
      'private_key',
    ],
    [
      'a token_uri on a host nobody allowed',
      () => ({ providerKey: keyFile('https://attacker.example/token', main.privatePem), providerConfig: { location: LOCATION } }),
      'token_uri',
    ],
    ['a bad location', () => ({ providerKey: good(), providerConfig: { location: 'europe west 4' } }), 'providerConfig.location'],
    ['no location', () => ({ providerKey: good() }), 'location'],
  ];
  for (const [name, body, says] of cases) {
    it(`${name}: a coded 400 that says what is wrong, nothing stored`, async () => {
      const res = await connect(project.skLive, { refId: 'cust_bad', ...body() });
      expect(res.status, res.text).toBe(400);
      expect(['invalid_credential', 'validation_failed']).toContain(res.body.code);
      expect(res.text).toContain(says);
      expect(res.text).not.toContain('PRIVATE KEY');
      const stored = await server.request('GET', '/v1/keys/vertex/cust_bad', { key: project.skLive });
      expect(stored.status).toBe(404);
    });
  }
});
