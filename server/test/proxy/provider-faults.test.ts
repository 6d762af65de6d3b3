import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderName } from '../../src/db/schema.js';
import { sseEvent } from '../helpers/mock-upstream.js';
import { eventually, type ProxyEnv, startProxyEnv } from './support.js';

/**
 * Provider faults: each fault a provider can throw at the
 * proxy gives the caller a prompt, readable result through the provider's official SDK,
 * and leaves the stored key in the state it should be in (only 401/403 disable it, once).
 */

let env: ProxyEnv;
const HEADERS_TIMEOUT_MS = 1000;

beforeAll(async () => {
  env = await startProxyEnv({ BYO_UPSTREAM_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS}ms`, BYO_UPSTREAM_BODY_TIMEOUT: '2s' });
}, 180_000);
afterAll(async () => {
  await env?.close();
}, 120_000);

async function keyState(provider: ProviderName, refId: string): Promise<string> {
  const r = await env.server.request('GET', `/v1/keys/${provider}/${refId}`, { key: env.project.skLive });
  return r.body.status;
}

async function eventsFor(refId: string): Promise<string[]> {
  const rows = await env.server.app.services.db
    .selectFrom('events')
    .select(['type', 'data'])
    .where('project_id', '=', env.project.id)
    .execute();
  return rows.filter((r) => (r.data as { refId?: string }).refId === refId).map((r) => r.type);
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const msg = { model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user' as const, content: 'hi' }] };

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

describe('provider faults through the official SDKs', () => {
  it('slow response headers: 504 upstream_timeout after the configured timeout; key untouched', async () => {
    await env.connect('openai', 'slow', 'sk-proj-slowKey000000000000000000');
    env.mock.intercept({ provider: 'openai', path: '/chat/completions', times: 1 }, async (req) => {
      await req.closed; // never answers
      return undefined;
    });
    const { value: err, ms } = await timed(() =>
      env
        .openai('slow')
        .chat.completions.create(chat)
        .catch((e: unknown) => e),
    );
    expect((err as { status?: number }).status).toBe(504);
    expect((err as { code?: string }).code).toBe('upstream_timeout');
    expect((err as Error).message).toMatch(/did not answer in time/);
    expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + 4000);
    expect(await keyState('openai', 'slow')).toBe('active');
  });

  it('connection reset before any answer: a prompt 502 upstream_unreachable; key untouched', async () => {
    await env.connect('openai', 'reset', 'sk-proj-resetKey00000000000000000');
    env.mock.intercept({ provider: 'openai', path: '/chat/completions', times: 1 }, (_req, res) => {
      res.socket?.destroy();
      return undefined;
    });
    const { value: err, ms } = await timed(() =>
      env
        .openai('reset')
        .chat.completions.create(chat)
        .catch((e: unknown) => e),
    );
    expect((err as { status?: number }).status).toBe(502);
    expect((err as { code?: string }).code).toBe('upstream_unreachable');
    expect(ms).toBeLessThan(3000);
    expect(await keyState('openai', 'reset')).toBe('active');
  });

  it('connection reset mid-stream: the SDK stream fails promptly, the server carries on; key untouched', async () => {
    await env.connect('anthropic', 'midstream', 'sk-ant-midstream000000000000000');
    env.mock.intercept({ provider: 'anthropic', path: '/v1/messages', times: 1 }, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        sseEvent(
          {
            type: 'message_start',
            message: {
              id: 'm1',
              type: 'message',
              role: 'assistant',
              content: [],
              model: 'x',
              usage: { input_tokens: 1, output_tokens: 0 },
            },
          },
          'message_start',
        ),
      );
      await new Promise((r) => setTimeout(r, 100));
      res.socket?.destroy();
      return undefined;
    });
    const { value: err, ms } = await timed(async () => {
      try {
        const stream = await env.anthropic('midstream').messages.create({ ...msg, stream: true });
        for await (const _event of stream) {
          /* consume */
        }
        return null;
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(Error);
    expect(ms).toBeLessThan(5000);
    expect(await keyState('anthropic', 'midstream')).toBe('active');
    const ok = await env.anthropic('midstream').messages.create(msg);
    expect(ok.type).toBe('message');
  });

  it('429 with Retry-After is passed through; the SDK waits for it and its retry succeeds; key untouched', async () => {
    await env.connect('openai', 'limited', 'sk-proj-limitedKey000000000000000');
    env.mock.intercept(
      { provider: 'openai', path: '/chat/completions', times: 1 },
      {
        status: 429,
        headers: { 'retry-after': '1' },
        json: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
      },
    );
    const raw = await fetch(`${env.proxyUrl('openai')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.project.skLive}`, 'x-byo-ref-id': 'limited', 'content-type': 'application/json' },
      body: JSON.stringify(chat),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(raw.headers.get('x-byo-error-source')).toBeNull();
    expect(await raw.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });

    env.mock.intercept(
      { provider: 'openai', path: '/chat/completions', times: 1 },
      {
        status: 429,
        headers: { 'retry-after': '1' },
        json: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
      },
    );
    const { value: ok, ms } = await timed(() => env.openai('limited', { maxRetries: 1 }).chat.completions.create(chat));
    expect(ok.choices[0]?.message).toBeDefined();
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(await keyState('openai', 'limited')).toBe('active');
    expect(await eventsFor('limited')).toEqual(['key.connected']);
  });

  it('429 insufficient_quota: passed through, not retried into a loop, the key stays active', async () => {
    await env.connect('openai', 'quota', 'sk-proj-quotaKey000000000000000000');
    env.mock.intercept(
      { provider: 'openai', path: '/chat/completions', times: 1 },
      {
        status: 429,
        json: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } },
      },
    );
    const err = await env
      .openai('quota')
      .chat.completions.create(chat)
      .catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(429);
    expect((err as { code?: string }).code).toBe('insufficient_quota');
    expect(await keyState('openai', 'quota')).toBe('active');
  });

  for (const [provider, status, body] of [
    ['openai', 500, { error: { message: 'The server had an error', type: 'server_error' } }],
    ['anthropic', 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
    ['openai', 503, { error: { message: 'The engine is currently overloaded', type: 'server_error', code: 'server_is_overloaded' } }],
  ] as const) {
    it(`${provider} ${status}: a prompt, readable SDK error with the provider's status and message; key untouched`, async () => {
      const refId = `status_${status}`;
      await env.connect(
        provider,
        refId,
        provider === 'anthropic' ? 'sk-ant-overloaded00000000000000' : `sk-proj-status${status}000000000000000`,
      );
      env.mock.intercept({ provider, times: 1 }, { status, json: body });
      const { value: err, ms } = await timed(() =>
        (provider === 'anthropic' ? env.anthropic(refId).messages.create(msg) : env.openai(refId).chat.completions.create(chat)).catch(
          (e: unknown) => e,
        ),
      );
      expect((err as { status?: number }).status).toBe(status);
      expect((err as Error).message).toMatch(/error|Overloaded|overloaded/);
      expect(ms).toBeLessThan(3000);
      expect(await keyState(provider, refId)).toBe('active');
      expect(await eventsFor(refId)).toEqual(['key.connected']);
    });
  }

  it('403 from the provider disables the key and emits key.disabled exactly once', async () => {
    await env.connect('openai', 'forbidden', 'sk-proj-forbiddenKey0000000000000');
    env.mock.intercept(
      { provider: 'openai', path: '/chat/completions' },
      { status: 403, json: { error: { message: 'Project does not have access', type: 'invalid_request_error' } } },
    );
    const errs = await Promise.all(
      [1, 2, 3].map(() =>
        env
          .openai('forbidden')
          .chat.completions.create(chat)
          .catch((e: unknown) => e),
      ),
    );
    env.mock.reset();
    // The provider's 403 as it came, or BYO's 409 key_disabled once the key is disabled.
    const statuses = errs.map((e) => (e as { status?: number }).status);
    expect(statuses).toContain(403);
    for (const s of statuses) expect([403, 409]).toContain(s);
    await eventually(async () => (await keyState('openai', 'forbidden')) === 'disabled');
    expect((await eventsFor('forbidden')).filter((t) => t === 'key.disabled')).toHaveLength(1);
    const after = await env
      .openai('forbidden')
      .chat.completions.create(chat)
      .catch((e: unknown) => e);
    expect((after as { status?: number; code?: string }).code).toBe('key_disabled');
  });

  it('an upstream that is not HTTP at all: 502, and the next call works', async () => {
    await env.connect('openai', 'garbage', 'sk-proj-garbageKey00000000000000');
    env.mock.intercept({ provider: 'openai', path: '/chat/completions', times: 1 }, (_req, res) => {
      res.socket?.end('SSH-2.0-OpenSSH_9.2\r\n\0\0\0garbage\r\n\r\n');
      return undefined;
    });
    const err = await env
      .openai('garbage')
      .chat.completions.create(chat)
      .catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(502);
    const ok = await env.openai('garbage').chat.completions.create(chat);
    expect(ok.choices[0]?.message).toBeDefined();
    expect(await keyState('openai', 'garbage')).toBe('active');
  });

  it('validation against a failing provider reports unknown and changes nothing; a 401 reports invalid', async () => {
    await env.connect('openai', 'val', 'sk-proj-validateKey0000000000000');
    for (const status of [500, 429, 503]) {
      env.mock.intercept({ provider: 'openai', path: '/models', times: 1 }, { status, json: { error: { message: 'nope' } } });
      const v = await env.server.request('POST', '/v1/keys/validate', {
        key: env.project.skLive,
        body: { provider: 'openai', refId: 'val' },
      });
      expect(v.status, v.text).toBe(200);
      expect(v.body).toMatchObject({ valid: false, result: 'unknown', providerStatus: status });
      expect(await keyState('openai', 'val')).toBe('active');
    }
    env.mock.intercept(
      { provider: 'openai', path: '/models', times: 1 },
      { status: 401, json: { error: { message: 'Incorrect API key provided: sk-proj-****0000' } } },
    );
    const v = await env.server.request('POST', '/v1/keys/validate', {
      key: env.project.skLive,
      body: { provider: 'openai', refId: 'val' },
    });
    expect(v.body).toMatchObject({ valid: false, result: 'invalid', providerStatus: 401 });
    expect(v.text).not.toContain('Incorrect API key provided');
  });

  it('no unexpected error was logged through all of this', () => {
    const errors = env.server.logs.filter((l) => /"level":(50|60)/.test(l));
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
