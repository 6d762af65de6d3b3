import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { markPublic } from '../helpers/leak-capture.js';
import {
  CONTENT_TYPES,
  type JsonSchema,
  junkValue,
  malformedBody,
  NASTY_STRINGS,
  NASTY_URLS,
  nastyString,
  nearArb,
  validArb,
} from '../helpers/arbitraries.js';
import { internalLeak, KNOWN_CODES, restContractProblems } from '../helpers/checks.js';
import { installDnsGuard } from '../helpers/dns-guard.js';
import { send } from '../helpers/http.js';
import { fuzzParams } from '../helpers/report.js';
import { startStubUpstream, type StubUpstream } from '../helpers/stub-upstream.js';

/**
 * Property tests over every REST route the OpenAPI document lists:
 * whatever the method, credential, path, query, headers, content type or body, the answer is
 * prompt, never a 5xx, and an error is a coded JSON body. The server keeps serving afterwards.
 * Run counts are bounded so this file stays fast; a failure prints the seed to replay it.
 */

interface Operation {
  /** The tRPC procedure behind the route (operationId `keys-connect` → `keys.connect`). */
  procedure: string;
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query' | 'header'; schema: JsonSchema; required?: boolean }[];
  body: JsonSchema | null;
}

let server: TestServer;
let project: TestProject;
let upstream: StubUpstream;
let ops: Operation[] = [];
let dnsGuard: ReturnType<typeof installDnsGuard>;
let endpointId = 'we_none';
const RUNS = Number(process.env.BYO_FUZZ_RUNS ?? 400);

beforeAll(async () => {
  markPublic([...NASTY_STRINGS, ...NASTY_URLS]);
  dnsGuard = installDnsGuard();
  // Validation calls go to a local stub, never to a real provider.
  upstream = await startStubUpstream();
  server = await startTestServer({
    BYO_OPENAI_BASE_URL: `${upstream.url}/v1`,
    BYO_ANTHROPIC_BASE_URL: upstream.url,
    BYO_GOOGLE_BASE_URL: upstream.url,
    BYO_RATE_LIMIT_CONNECT_PER_KEY: '100000',
    BYO_RATE_LIMIT_CONNECT_PER_IP: '100000',
    // Webhook URLs on loopback are accepted (deliveries to port 9 just fail), so endpoint routes get past validation.
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
  });
  project = await server.createProject();
  for (const [provider, refId, providerKey] of [
    ['openai', 'cust_1', 'sk-byo-test-valid'],
    ['anthropic', 'cust_1', 'sk-ant-fuzz-0000000000'],
    ['google', 'cust_2', 'AIzaFuzz000000000000000000'],
  ] as const) {
    const r = await server.request('POST', '/v1/keys/connect', { key: project.skTest, body: { provider, refId, providerKey } });
    expect(r.status, r.text).toBe(200);
  }
  const hook = await server.request('POST', '/v1/webhooks/endpoints', { key: project.skTest, body: { url: 'http://127.0.0.1:9/hook' } });
  if (hook.status === 200 && typeof hook.body?.id === 'string') endpointId = hook.body.id;
  const doc = await server.request('GET', '/v1/openapi.json');
  expect(doc.status).toBe(200);
  ops = [];
  for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      ops.push({
        procedure: String(op.operationId ?? '').replace(/-/g, '.'),
        method: method.toUpperCase(),
        path: `/v1${path}`,
        params: (op.parameters ?? []) as Operation['params'],
        body: (op.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined) ?? null,
      });
    }
  }
}, 180_000);

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  dnsGuard?.restore();
});

/** Percent-encodes any string, lone surrogates included (as UTF-8 of U+FFFD, like a browser). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

type Cred = { label: string; headers: Record<string, string>; valid: boolean };

function credentials(): Cred[] {
  const bearer = (label: string, token: string, valid = false): Cred => ({ label, headers: { authorization: `Bearer ${token}` }, valid });
  const sk = project.skTest;
  const flipped = `${sk.slice(0, -1)}${sk.endsWith('A') ? 'B' : 'A'}`;
  return [
    { label: 'none', headers: {}, valid: false },
    bearer('pk_test', project.pkTest, true),
    bearer('pk_live', project.pkLive, true),
    bearer('sk_test', project.skTest, true),
    bearer('sk_live', project.skLive, true),
    bearer('admin', server.adminToken, true),
    { label: 'sk in x-api-key', headers: { 'x-api-key': project.skTest }, valid: true },
    { label: 'sk in x-goog-api-key', headers: { 'x-goog-api-key': project.skTest }, valid: true },
    bearer('bad checksum', flipped),
    bearer('sha256 of the sk', createHash('sha256').update(sk).digest('hex')),
    bearer('admin token + 1', `${server.adminToken}x`),
    bearer('empty bearer', ''),
    bearer('garbage', 'byo_sk_live_'),
    bearer('latin1', '\u00ff\u00fe\u00e9'),
    bearer('long', 'A'.repeat(8000)),
    { label: 'basic', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, valid: false },
    { label: 'two schemes', headers: { authorization: `Bearer ${project.skTest}, Bearer x` }, valid: false },
  ];
}

const ODD_HEADERS: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      origin: fc.constantFrom('null', 'https://evil.test', 'https://app.example.com', 'file://', '\u00ff'),
      'x-forwarded-for': fc.constantFrom('1.1.1.1', '::1, 10.0.0.1', 'garbage', ''.padEnd(3000, '9')),
      'idempotency-key': fc.oneof(fc.string({ maxLength: 40 }), fc.constant('k'.repeat(300)), fc.constant('\u00e9\u00ff')),
      accept: fc.constantFrom('text/html', '*/*', 'application/xml', 'application/json;q=0', ''),
      'accept-encoding': fc.constantFrom('gzip, br', 'identity;q=0', '*;q=0', 'x'),
      'x-byo-ref-id': fc.constantFrom('cust_1', '../../', '\u00e9'),
      'user-agent': fc.constantFrom('', 'x'.repeat(4000), 'curl/8'),
      expect: fc.constant('100-continue'),
    },
    { requiredKeys: [] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\t\x20-\x7e\x80-\xff]*$/.test(v))));

function pathSegment(real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real).map(pct) },
    { weight: 2, arbitrary: fc.string({ maxLength: 30 }).map(pct) },
    { weight: 1, arbitrary: nastyString.map((s) => pct(s.slice(0, 3000))) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%2F', '..', '%2e%2e', '%00', '%c0%ae', 'a%20b', '%F0%9F%98%80', '%ED%A0%80') },
  );
}

function queryString(op: Operation): fc.Arbitrary<string> {
  const query = op.params.filter((p) => p.in === 'query');
  const part = (name: string, schema: JsonSchema) =>
    fc.oneof(
      { weight: 3, arbitrary: validArb(schema, name).map((v) => `${pct(name)}=${pct(String(v))}`) },
      { weight: 1, arbitrary: validArb(schema, name).map((v) => `${pct(name)}=${pct(String(v))}%00`) },
      { weight: 2, arbitrary: junkValue.map((v) => `${pct(name)}=${pct(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          `${name}=%`,
          `${name}[]=1&${name}[]=2`,
          `${name}=1&${name}=2`,
          `${name}`,
          `${name}[a]=1`,
          `${name}=${'9'.repeat(500)}`,
        ),
      },
    );
  const parts = query.map((q) => fc.option(part(q.name, q.schema), { nil: undefined }));
  const extra = fc.option(fc.constantFrom('input=%7B%7D', '__proto__[x]=1', 'key=sk-leak-in-query-0000', 'a=%', '&&&', '=&='), {
    nil: undefined,
  });
  return fc.tuple(fc.tuple(...parts), extra).map(([ps, e]) => {
    const all = [...ps, e].filter((x): x is string => x !== undefined);
    return all.length ? `?${all.join('&')}` : '';
  });
}

interface Generated {
  op: Operation;
  method: string;
  path: string;
  cred: Cred;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

/**
 * Requests that succeed, run before the generated ones: the contract checks (coded body, no
 * 5xx, headers) then always see success responses too. Random requests reach a 2xx only a
 * couple of times in 400 runs, so without these a run could check none.
 */
function successExamples(creds: Cred[]): [Generated][] {
  const op = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path) as Operation;
  const cred = (label: string) => creds.find((c) => c.label === label) as Cred;
  const json = { 'content-type': 'application/json' };
  return [
    [{ op: op('GET', '/v1/keys'), method: 'GET', path: '/v1/keys', cred: cred('sk_test'), headers: {}, body: undefined }],
    [
      {
        op: op('POST', '/v1/keys/connect'),
        method: 'POST',
        path: '/v1/keys/connect',
        cred: cred('pk_test'),
        headers: json,
        body: JSON.stringify({ provider: 'openai', refId: 'fuzz_example', providerKey: 'sk-byo-test-valid' }),
      },
    ],
  ];
}

function requestArb(creds: Cred[], realIds: string[]): fc.Arbitrary<Generated> {
  return fc.constantFrom(...ops).chain((op) => {
    const segs = op.params.filter((p) => p.in === 'path');
    const pathArb = fc
      .tuple(
        ...segs.map((p) =>
          p.schema.enum
            ? fc.oneof(
                validArb(p.schema).map((v) => String(v)),
                pathSegment(realIds),
              )
            : pathSegment(realIds),
        ),
      )
      .map((vals) => {
        let path = op.path;
        segs.forEach((p, i) => {
          path = path.replace(`{${p.name}}`, vals[i] as string);
        });
        return path;
      });
    const bodyArb: fc.Arbitrary<string | Buffer | undefined> = op.body
      ? fc.oneof(
          { weight: 2, arbitrary: validArb(op.body).map((v) => JSON.stringify(v)) },
          { weight: 5, arbitrary: nearArb(op.body).map((v) => JSON.stringify(v) ?? 'null') },
          { weight: 2, arbitrary: malformedBody },
          { weight: 1, arbitrary: fc.constant(undefined) },
        )
      : fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: malformedBody });
    return fc.record({
      op: fc.constant(op),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant(op.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
      ),
      path: fc.tuple(pathArb, queryString(op)).map(([p, q]) => `${p}${q}`),
      // Valid credentials three times as often: they reach the handlers.
      cred: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...creds.filter((c) => c.valid)) },
        { weight: 1, arbitrary: fc.constantFrom(...creds) },
      ),
      headers: fc.oneof(
        // Plain JSON headers a quarter of the time, so well-formed requests reach the handlers'
        // success paths (with odd headers nearly every request stops at 415 or 400 first).
        { weight: 1, arbitrary: fc.constant({ 'content-type': 'application/json' }) },
        {
          weight: 3,
          arbitrary: fc.tuple(ODD_HEADERS, fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined })).map(([h, ct]) => ({
            ...h,
            ...(ct ? { 'content-type': ct } : {}),
          })),
        },
      ),
      body: bodyArb,
    });
  });
}

describe('REST fuzzing (every route of /v1/openapi.json)', () => {
  it('enumerates the routes from the OpenAPI document', () => {
    expect(ops.length).toBeGreaterThanOrEqual(10);
    expect(ops.map((o) => `${o.method} ${o.path}`)).toContain('POST /v1/keys/connect');
  });

  it('answers any request promptly with a coded JSON body and never a 5xx', async () => {
    const creds = credentials();
    const realIds = [project.id, ...project.keys.map((k) => k.id), 'openai', 'cust_1', 'anthropic'];
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(requestArb(creds, realIds), async (g) => {
        const headers = { ...g.headers, ...g.cred.headers };
        const body = g.method === 'GET' || g.method === 'HEAD' ? undefined : g.body;
        const res = await send(server.url, { method: g.method, path: g.path, headers, body, timeoutMs: 15_000 });
        seen.set(`${res.status}`, (seen.get(`${res.status}`) ?? 0) + 1);
        const problems = restContractProblems(res, { method: g.method });
        // Fail closed: without a valid credential nothing succeeds.
        if (!g.cred.valid && res.status < 400 && g.method !== 'OPTIONS') problems.push(`status ${res.status} without a valid credential`);
        // A publishable key reaches only the connect route and the provider catalog a connect form renders from.
        if (
          g.cred.label.startsWith('pk') &&
          res.status < 400 &&
          !/^\/v1\/(keys\/connect|providers)(\?|$)/.test(g.path) &&
          g.method !== 'OPTIONS'
        )
          problems.push(`pk got ${res.status}`);
        // A rejected credential is never echoed.
        if (res.status === 401 && g.cred.headers.authorization && g.cred.headers.authorization.length > 20) {
          const token = g.cred.headers.authorization.replace(/^Bearer /, '');
          if (token.length >= 16 && res.text.includes(token.slice(12, 28))) problems.push('401 echoes the credential');
        }
        if (problems.length)
          throw new Error(`${g.method} ${g.path} [${g.cred.label}] → ${res.status} ${res.text.slice(0, 300)}\n  ${problems.join('\n  ')}`);
      }),
      { ...fuzzParams<[Generated]>(RUNS), examples: successExamples(creds) },
    );
    // Both rejections and successes were exercised (the generator is not stuck on one path).
    const statuses = [...seen.keys()].map(Number);
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses.some((s) => s === 400)).toBe(true);
    expect(statuses.some((s) => s === 401)).toBe(true);
  }, 180_000);

  it('the tRPC surface (/trpc) answers the same inputs with coded errors and never a 5xx', async () => {
    const creds = credentials();
    const arb = fc.constantFrom(...ops).chain((op) =>
      fc.record({
        op: fc.constant(op),
        batch: fc.boolean(),
        viaGet: fc.boolean(),
        cred: fc.constantFrom(...creds),
        contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
        input: fc.oneof(
          {
            weight: 3,
            arbitrary: nearArb(op.body ?? { type: 'object', properties: Object.fromEntries(op.params.map((p) => [p.name, p.schema])) }).map(
              (v) => JSON.stringify(v) ?? 'null',
            ),
          },
          { weight: 1, arbitrary: malformedBody.map((b) => b.toString()) },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (g) => {
        const name = g.batch ? `${g.op.procedure},${g.op.procedure}` : g.op.procedure;
        const input = g.batch ? `{"0":${g.input},"1":${g.input}}` : g.input;
        const path = `/trpc/${name}${g.batch ? '?batch=1' : ''}`;
        const headers: Record<string, string> = { ...g.cred.headers, ...(g.contentType ? { 'content-type': g.contentType } : {}) };
        const res = g.viaGet
          ? await send(server.url, { method: 'GET', path: `${path}${g.batch ? '&' : '?'}input=${pct(input)}`, headers, timeoutMs: 15_000 })
          : await send(server.url, { method: 'POST', path, headers, body: input, timeoutMs: 15_000 });
        const problems: string[] = [];
        if (res.status >= 500) problems.push(`status ${res.status}`);
        if (!String(res.headers['content-type']).startsWith('application/json'))
          problems.push(`content-type ${res.headers['content-type']}`);
        if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no nosniff');
        const leak = internalLeak(res.text);
        if (leak) problems.push(`internal detail: ${leak}`);
        if (res.status >= 400) {
          // tRPC's shape ({ error: { data: { code } } }), or BYO's ({ code }) when Fastify refused the request first.
          let codes = [...res.text.matchAll(/"data":\{"code":"([a-z_]+)"/g)].map((m) => m[1]);
          if (codes.length === 0) codes = [...res.text.matchAll(/^\{"code":"([a-z_]+)"/g)].map((m) => m[1]);
          if (codes.length === 0 || codes.some((c) => !KNOWN_CODES.has(c as string))) problems.push(`codes ${JSON.stringify(codes)}`);
        }
        if (!g.cred.valid && res.status < 400) problems.push(`status ${res.status} without a valid credential`);
        if (problems.length)
          throw new Error(
            `${g.viaGet ? 'GET' : 'POST'} ${path} [${g.cred.label}] → ${res.status} ${res.text.slice(0, 300)}\n  ${problems.join('\n  ')}`,
          );
      }),
      fuzzParams(Math.ceil(RUNS / 2)),
    );
  }, 180_000);

  it('one field at a time: every string field and parameter with NUL, lone surrogates, huge and odd values', async () => {
    const VALUES = [
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfff',
      'z'.repeat(10_000),
      '😀𝕏',
      '\u202e',
      '',
      ' ',
      '%00',
      "'",
      '\\',
      '9'.repeat(40),
      '-1',
      '1e309',
      '2026-13-45T99:99:99Z',
    ];
    markPublic(VALUES); // sent as provider keys and as names or ref ids alike
    const baseline = (schema: JsonSchema, name = ''): unknown => {
      if ((schema as { examples?: unknown[] }).examples?.[0] !== undefined) return (schema as { examples: unknown[] }).examples[0];
      if (schema.enum) return schema.enum[0];
      const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? (schema.properties ? 'object' : 'string'));
      if (type === 'object') {
        const out: Record<string, unknown> = {};
        for (const k of schema.required ?? []) if (schema.properties?.[k]) out[k] = baseline(schema.properties[k] as JsonSchema, k);
        return out;
      }
      if (type === 'array') return schema.items ? [baseline(schema.items, name)] : [];
      if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
      if (type === 'boolean') return false;
      if (/url/i.test(name)) return 'http://127.0.0.1:9/hook';
      if (schema.pattern) return fc.sample(fc.stringMatching(new RegExp(schema.pattern)), { seed: 1, numRuns: 1 })[0];
      return 'value';
    };
    const credFor = (op: Operation) =>
      op.path.startsWith('/v1/admin/') ? server.adminToken : op.path === '/v1/keys/connect' ? project.pkTest : project.skTest;
    const realPath = (op: Operation, override?: [string, string]) =>
      op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
        if (override && override[0] === name) return pct(override[1]);
        if (name === 'provider') return 'openai';
        if (name === 'refId') return 'cust_1';
        if (/project/i.test(name) || (name === 'id' && op.path.includes('/projects/'))) return project.id;
        if (name === 'id' && op.path.includes('/api-keys/')) return project.keys[0]?.id ?? 'x';
        if (name === 'id' && op.path.includes('/endpoints/')) return endpointId;
        return 'x';
      });
    const problems: string[] = [];
    let sent = 0;
    for (const op of ops) {
      const key = credFor(op);
      const cases: { path: string; body?: unknown; label: string }[] = [];
      const base = op.body ? (baseline(op.body) as Record<string, unknown>) : undefined;
      for (const v of VALUES) {
        for (const [name, schema] of Object.entries(op.body?.properties ?? {})) {
          const t = Array.isArray(schema.type) ? schema.type : [schema.type];
          if (t.includes('array') && schema.items)
            cases.push({ path: realPath(op), body: { ...base, [name]: [v] }, label: `body.${name}[0]` });
          else cases.push({ path: realPath(op), body: { ...base, [name]: v }, label: `body.${name}` });
        }
        for (const p of op.params) {
          if (p.in === 'query') cases.push({ path: `${realPath(op)}?${pct(p.name)}=${pct(v)}`, body: base, label: `query.${p.name}` });
          if (p.in === 'path') cases.push({ path: realPath(op, [p.name, v]), body: base, label: `path.${p.name}` });
        }
      }
      for (const c of cases) {
        const res = await send(server.url, {
          method: op.method,
          path: c.path,
          headers: { authorization: `Bearer ${key}`, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: c.body !== undefined ? JSON.stringify(c.body) : undefined,
          timeoutMs: 15_000,
        });
        sent++;
        const p = restContractProblems(res, { method: op.method });
        if (p.length) problems.push(`${op.method} ${op.path} ${c.label} → ${res.status} ${res.text.slice(0, 160)}: ${p.join('; ')}`);
      }
    }
    expect(sent).toBeGreaterThan(500);
    expect(problems.slice(0, 20)).toEqual([]);
  }, 300_000);

  it('keeps serving afterwards, and logged no unexpected error', async () => {
    expect((await server.request('GET', '/healthz')).status).toBe(200);
    expect((await server.request('GET', '/readyz')).status).toBe(200);
    const p = await server.createProject();
    const c = await server.request('POST', '/v1/keys/connect', {
      key: p.pkTest,
      body: { provider: 'openai', refId: 'after_fuzz', providerKey: 'sk-byo-test-valid' },
    });
    expect(c.status, c.text).toBe(200);
    const l = await server.request('GET', '/v1/keys', { key: p.skTest });
    expect(l.status).toBe(200);
    expect(l.body.data).toHaveLength(1);
    const errors = server.logs.filter((line) => /"level":(50|60)/.test(line));
    expect(errors, errors.join('\n')).toEqual([]);
    expect(process.listenerCount('uncaughtException')).toBeGreaterThanOrEqual(0);
  });
});
