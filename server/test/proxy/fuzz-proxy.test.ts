import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { CONTENT_TYPES, malformedBody } from '../helpers/arbitraries.js';
import { internalLeak, KNOWN_CODES } from '../helpers/checks.js';
import { installDnsGuard } from '../helpers/dns-guard.js';
import { send } from '../helpers/http.js';
import { fuzzParams } from '../helpers/report.js';
import { startStubUpstream, type StubUpstream } from '../helpers/stub-upstream.js';

/**
 * Property tests over the proxy's request handling: any method, provider,
 * path, query, credential placement, ref id, content type or body gives a prompt answer;
 * an answer BYO produced itself is never a 5xx and is a coded JSON body; the caller's BYO key
 * and `x-byo-*` headers never reach the provider, and a request never leaves the provider base.
 */

let server: TestServer;
let project: TestProject;
let upstream: StubUpstream;
let dnsGuard: ReturnType<typeof installDnsGuard>;
const RUNS = Number(process.env.BYO_FUZZ_RUNS ?? 300);
const UPSTREAM_KEY = 'sk-upstream-fuzz-0123456789abcdef';

beforeAll(async () => {
  dnsGuard = installDnsGuard();
  upstream = await startStubUpstream();
  upstream.handle = (req, res) => {
    // A healthy provider: drains the body, answers JSON.
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  };
  server = await startTestServer({
    BYO_OPENAI_BASE_URL: `${upstream.url}/v1`,
    BYO_ANTHROPIC_BASE_URL: `${upstream.url}/anthropic`,
    BYO_GOOGLE_BASE_URL: `${upstream.url}/google`,
  });
  project = await server.createProject();
  for (const provider of ['openai', 'anthropic', 'google']) {
    for (const [refId, providerKey] of [
      ['sbx', 'sk-byo-test-valid'],
      ['up', UPSTREAM_KEY],
      ['gone', UPSTREAM_KEY],
    ] as const) {
      const r = await server.request('POST', '/v1/keys/connect', { key: project.skTest, body: { provider, refId, providerKey } });
      expect(r.status, r.text).toBe(200);
    }
    await server.request('POST', '/v1/keys/revoke', { key: project.skTest, body: { provider, refId: 'gone' } });
  }
}, 180_000);

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  dnsGuard?.restore();
}, 120_000);

const BASES: Record<string, string> = { openai: '/v1', anthropic: '/anthropic', google: '/google' };

const segment = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'chat',
      'completions',
      'models',
      'v1',
      'v1beta',
      'messages',
      'responses',
      'embeddings',
      'gemini-2.0-flash:generateContent',
      'gemini-2.0-flash:streamGenerateContent',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E%2e',
      '%2f',
      '..%2f..',
      '%00',
      '%',
      '%zz',
      '%c0%ae%c0%ae',
      '',
      ';',
      '@evil.test',
      'http:',
      '\\..\\',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  // Random bytes as hex. Not the hex of the shared nasty strings: other fuzzers store some of
  // them as provider keys, and the suite's leak scan (rightly) flags a stored secret that
  // reaches a log in any encoding; request paths are logged.
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 100 }).map((b) => Buffer.from(b).toString('hex')) },
);

const requestArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
  provider: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('openai', 'anthropic', 'google') },
    { weight: 1, arbitrary: fc.constantFrom('OpenAI', 'azure', '..', '%2e', 'x') },
  ),
  segments: fc.array(segment, { maxLength: 5 }),
  query: fc.option(
    fc.constantFrom('alt=sse', 'key=', 'key=byo_sk_test_x', 'key=%', 'a=1&a=2', 'api_base=http://127.0.0.1:1/', 'x=%ff%fe'),
    { nil: undefined },
  ),
  cred: fc.constantFrom('auth', 'x-api-key', 'x-goog-api-key', 'query', 'none', 'pk', 'sk-live', 'bad-checksum', 'garbage', 'two'),
  ref: fc.constantFrom('sbx', 'up', 'gone', 'missing', '', '../x', 'a'.repeat(300), '\u00e9', undefined),
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES, 'text/event-stream'), { nil: undefined }),
  body: fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    {
      weight: 3,
      arbitrary: fc
        .record(
          {
            model: fc.constantFrom('gpt-4o-mini', 'claude-3-5-haiku-latest', '', 'x'.repeat(500)),
            stream: fc.boolean(),
            messages: fc.constant([{ role: 'user', content: 'hi' }]),
            api_base: fc.constantFrom(undefined, 'http://127.0.0.1:1/'),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    },
    { weight: 2, arbitrary: malformedBody },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  extra: fc.record(
    {
      'x-byo-debug': fc.constant('1'),
      connection: fc.constantFrom('keep-alive, x-secret-hop', 'close'),
      'x-secret-hop': fc.constant('hop'),
      'anthropic-version': fc.constant('2023-06-01'),
      'x-forwarded-for': fc.constant('10.0.0.1'),
      cookie: fc.constant('session=abc'),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity'),
      host: fc.constantFrom('evil.test', '127.0.0.1'),
    },
    { requiredKeys: [] },
  ),
});

function credentialHeaders(cred: string): { headers: Record<string, string>; query: string | null } {
  const sk = project.skTest;
  switch (cred) {
    case 'auth':
      return { headers: { authorization: `Bearer ${sk}` }, query: null };
    case 'x-api-key':
      return { headers: { 'x-api-key': sk }, query: null };
    case 'x-goog-api-key':
      return { headers: { 'x-goog-api-key': sk }, query: null };
    case 'query':
      return { headers: {}, query: `key=${sk}` };
    case 'pk':
      return { headers: { authorization: `Bearer ${project.pkTest}` }, query: null };
    case 'sk-live':
      return { headers: { authorization: `Bearer ${project.skLive}` }, query: null };
    case 'bad-checksum':
      return { headers: { authorization: `Bearer ${sk.slice(0, -1)}${sk.endsWith('A') ? 'B' : 'A'}` }, query: null };
    case 'garbage':
      return { headers: { authorization: 'Bearer sk-not-a-byo-key-000000' }, query: null };
    case 'two':
      return { headers: { authorization: `Bearer ${sk}`, 'x-api-key': project.pkTest }, query: null };
    default:
      return { headers: {}, query: null };
  }
}

describe('proxy fuzzing', () => {
  it('answers promptly; its own errors are coded 4xx JSON; nothing BYO-private reaches the provider', async () => {
    const seen = new Map<number, number>();
    let counter = 0;
    const byoAnswered = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (g) => {
        const tag = `f${++counter}`;
        const { headers: credHeaders, query: credQuery } = credentialHeaders(g.cred);
        const query = [g.query, credQuery].filter(Boolean).join('&');
        const path = `/v1/proxy/${g.provider}/${g.segments.join('/')}${query ? `?${query}` : ''}`;
        const headers: Record<string, string> = { ...g.extra, ...credHeaders, 'x-fuzz-id': tag };
        if (g.ref !== undefined && /^[\t\x20-\x7e\x80-\xff]*$/.test(g.ref)) headers['x-byo-ref-id'] = g.ref;
        if (g.contentType) headers['content-type'] = g.contentType;
        const body = g.method === 'GET' || g.method === 'HEAD' ? undefined : g.body;
        const res = await send(server.url, { method: g.method, path, headers, body, timeoutMs: 15_000 });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        if (res.headers['x-byo-error-source'] === 'byo')
          byoAnswered.set(tag, `${g.method} ${path} → ${res.status} ${res.text.slice(0, 160)}`);
        const problems: string[] = [];
        const byo = res.headers['x-byo-error-source'] === 'byo';
        if (!res.headers['x-byo-request-id']) problems.push('no x-byo-request-id');
        if (byo) {
          if (res.status >= 500) problems.push(`BYO answered ${res.status}`);
          if (g.method !== 'HEAD') {
            try {
              // BYO's code sits where each provider's error shape has room: error.code, or Google's ErrorInfo reason.
              const b: unknown = JSON.parse(res.text);
              const code = JSON.stringify(b).match(/"(?:code|reason)":"([a-z_]+)"/)?.[1];
              if (!code || !KNOWN_CODES.has(code)) problems.push(`no known BYO code in ${res.text.slice(0, 200)}`);
            } catch {
              problems.push(`BYO error is not JSON: ${res.text.slice(0, 120)}`);
            }
          }
        } else if (res.status >= 500) problems.push(`status ${res.status} from a healthy upstream`);
        const leak = internalLeak(res.text);
        if (leak) problems.push(`internal detail: ${leak}`);
        // What reached the provider (if anything) for this request.
        for (const r of upstream.requests.filter((x) => x.headers['x-fuzz-id'] === tag)) {
          const base = BASES[g.provider] ?? '/none';
          if (!r.url.startsWith(`${base}/`) && r.url !== base) problems.push(`left the provider base: ${r.url}`);
          const raw = JSON.stringify(r.headers);
          if (/byo_(sk|pk)_/.test(raw) || /byo_(sk|pk)_/.test(r.url)) problems.push('a BYO key reached the provider');
          const hop = g.extra.connection?.includes('x-secret-hop') ? ['x-secret-hop'] : [];
          for (const h of Object.keys(r.headers))
            if (h.startsWith('x-byo-') || ['cookie', 'x-forwarded-for', ...hop].includes(h))
              problems.push(`header ${h} reached the provider`);
        }
        if (problems.length)
          throw new Error(
            `${g.method} ${path} [${g.cred}, ref=${g.ref}] → ${res.status} ${res.text.slice(0, 200)}\n  ${problems.join('\n  ')}`,
          );
      }),
      fuzzParams(RUNS),
    );
    const statuses = [...seen.keys()];
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses).toContain(401);
    expect(upstream.requests.length).toBeGreaterThan(0);
    // A request BYO refused itself never reaches the provider, not even later.
    await new Promise((r) => setTimeout(r, 500));
    const late = upstream.requests
      .filter((r) => byoAnswered.has(String(r.headers['x-fuzz-id'])))
      .map((r) => `${byoAnswered.get(String(r.headers['x-fuzz-id']))} but the provider got ${r.method} ${r.url}`);
    expect(late).toEqual([]);
  }, 240_000);

  it('keeps serving afterwards, and logged no unexpected error', async () => {
    const r = await send(server.url, {
      method: 'POST',
      path: '/v1/proxy/openai/chat/completions',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': 'sbx', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(r.status, r.text).toBe(200);
    expect((await server.request('GET', '/readyz')).status).toBe(200);
    const errors = server.logs.filter((line) => /"level":(50|60)/.test(line));
    expect(errors, errors.join('\n')).toEqual([]);
    expect(dnsGuard.blocked).toEqual([]);
  });
});
