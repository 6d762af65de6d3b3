import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogs, startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { canaryKey, dumpDatabase, findLeaks, type MockProvider, mockProviderEnv, startMockProvider } from '../helpers/support.js';

/**
 * The canary test: every core flow runs at log level trace with unique canary
 * keys; then the canaries must appear nowhere — not in any log line, response, or table.
 */

let server: TestServer;
let mock: MockProvider;
let p: TestProject;
const canaries: string[] = [];
const responses: string[] = [];

function canary(label: string): string {
  const k = canaryKey(label);
  canaries.push(k);
  return k;
}

const APP = 'https://app.example.com';
async function req(method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  // A publishable key connects from a browser on the project's allowed origin.
  const headers = opts.key?.startsWith('byo_pk_') ? { origin: APP, ...opts.headers } : opts.headers;
  const res = await server.request(method, path, { ...opts, headers });
  responses.push(res.text, JSON.stringify([...res.headers.entries()]));
  return res;
}

beforeAll(async () => {
  mock = await startMockProvider();
  server = await startTestServer({ ...mockProviderEnv(mock), LOG_LEVEL: 'trace', BYO_RATE_LIMIT_CONNECT_PER_IP: '1000' });
  p = await server.createProject({ allowedOrigins: [APP] });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await mock?.close();
}, 180_000);

describe('canary keys never leak', () => {
  it('runs every core flow with canaries', async () => {
    const stored = canary('stored');
    mock.validKeys.add(stored);
    expect(
      (
        await req('POST', '/v1/keys/connect', {
          key: p.pkLive,
          body: { provider: 'openai', refId: 'c1', providerKey: stored },
        })
      ).status,
    ).toBe(200);
    // Replace with an sk and an Idempotency-Key (the stored response must not hold the key), then replay.
    const replaced = canary('replaced');
    mock.validKeys.add(replaced);
    for (let i = 0; i < 2; i++) {
      const r = await req('POST', '/v1/keys/connect', {
        key: p.skLive,
        body: { provider: 'openai', refId: 'c1', providerKey: replaced },
        headers: { 'idempotency-key': 'idem-1' },
      });
      expect(r.status).toBe(200);
    }
    expect((await req('POST', '/v1/keys/validate', { key: p.skLive, body: { provider: 'openai', refId: 'c1' } })).body.valid).toBe(true);

    // The provider rejects a key and echoes it in its error body (as OpenAI does).
    const rejected = canary('rejected');
    await req('POST', '/v1/keys/connect', { key: p.skLive, body: { provider: 'openai', refId: 'c2', providerKey: rejected } });
    const v = await req('POST', '/v1/keys/validate', { key: p.skLive, body: { provider: 'openai', refId: 'c2' } });
    expect(v.body).toMatchObject({ valid: false, result: 'invalid' });
    expect(mock.requests.some((r) => r.key === rejected)).toBe(true);

    // Validate on connect, rejected.
    const q = await server.createProject({ allowedOrigins: [APP], validateOnConnect: true });
    expect(
      (await req('POST', '/v1/keys/connect', { key: q.pkLive, body: { provider: 'anthropic', refId: 'c3', providerKey: canary('voc') } }))
        .status,
    ).toBe(422);

    // Refused inputs that carry a key: bad key value, unknown field, oversize body, wrong slot.
    await req('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { provider: 'openai', refId: 'c4', providerKey: `${canary('space')} x` },
    });
    await req('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { provider: 'openai', refId: 'c4', providerKey: canary('ok'), apiKey: canary('extra') },
    });
    await req('POST', '/v1/keys/connect', { key: p.pkLive, body: `{"provider":"openai","providerKey":"${canary('badjson')}"` });
    await req('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { provider: 'openai', refId: 'c5', providerKey: canary('big'), pad: 'x'.repeat(70_000) },
    });
    await req('POST', '/v1/keys/connect', { key: canary('asbyokey'), body: { provider: 'openai', refId: 'c6', providerKey: canary('x') } });
    await req('GET', '/v1/keys', { headers: { 'x-api-key': canary('xapikey') } });
    await req('GET', `/v1/keys?key=${canary('query')}`, { key: p.skLive });
    await req('GET', `/v1/nope/${canary('path')}`);
    // A BYO secret key in a hijack attempt, and a connect token reused.
    const tok = (await req('POST', '/v1/connect-tokens', { key: p.skLive, body: { refId: 'c1' } })).body.token as string;
    canaries.push(tok);
    await req('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { provider: 'openai', refId: 'c1', providerKey: canary('tok1'), connectToken: tok },
    });
    await req('POST', '/v1/keys/connect', {
      key: p.pkLive,
      body: { provider: 'openai', refId: 'c1', providerKey: canary('tok2'), connectToken: tok },
    });
    expect((await req('POST', '/v1/keys/revoke', { key: p.skLive, body: { provider: 'openai', refId: 'c1' } })).status).toBe(200);
    await req('GET', '/v1/keys?limit=100', { key: p.skLive });
  });

  it('the logs at trace level hold none of them, in any encoding', () => {
    const logs = capturedLogs.join('');
    expect(server.app.services.logger.level).toBe('trace');
    // Access logs say what happened (method, path, status), with the path scrubbed.
    expect(logs).toMatch(/"req":\{"method":"POST","url":"\/v1\/keys\/connect"/);
    expect(logs).toMatch(/"res":\{"statusCode":422\}/);
    expect(logs).toMatch(/"url":"\/v1\/nope\/sk-\[REDACTED\]"/);
    expect(findLeaks(logs, canaries)).toEqual([]);
    expect(findLeaks(logs, [p.skLive.slice(12), p.pkLive.slice(12), p.skTest.slice(12)])).toEqual([]);
  });

  it('no response body or header holds them', () => {
    const stored = canaries.filter((c) => !c.startsWith('byo_ct_'));
    expect(findLeaks(responses.join('\n'), stored)).toEqual([]);
  });

  it('no table holds them', async () => {
    const dump = await dumpDatabase(server);
    expect(findLeaks(dump, canaries)).toEqual([]);
    expect(findLeaks(dump, [p.skLive.slice(12), p.pkLive.slice(12)])).toEqual([]);
  });
});
