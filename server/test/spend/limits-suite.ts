import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyEnv, startProxyEnv } from '../proxy/support.js';
import { expectEventSchema, Receiver } from '../webhooks/receiver.js';

/**
 * Spend limits through the public surfaces: REST for the limits, the proxy with
 * the providers' official SDKs and raw HTTP against a mock provider, webhooks to a local
 * receiver. Runs on PGlite, on PostgreSQL with DATABASE_URL, and with the counters in Redis
 * (limits-redis.test.ts).
 */
export function limitsSuite(name: string, env: () => Record<string, string>) {
  describe(name, () => {
    let e: ProxyEnv;
    let receiver: Receiver;
    const sk = () => e.project.skLive;
    const put = (path: string, body: unknown) => e.server.request('PUT', path, { key: sk(), body });
    const chat = (refId: string, body: Record<string, unknown> = {}) =>
      fetch(`${e.server.url}/v1/proxy/openai/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sk()}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...body }),
      });
    const clock = (t: number) => {
      e.server.app.services.limits.now = () => t;
    };

    beforeAll(async () => {
      e = await startProxyEnv({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1', BYO_ALLOW_HTTP_UPSTREAMS: 'true', ...env() });
      receiver = await new Receiver().start();
      const ep = await e.server.request('POST', '/v1/webhooks/endpoints', {
        key: sk(),
        body: { url: `${receiver.url}/hook`, events: ['limit.warning', 'limit.exceeded'] },
      });
      expect(ep.status, ep.text).toBe(200);
      for (const ref of ['conc', 'dflt', 'own', 'roll', 'tok', 'anth', 'evt'])
        await e.connect(ref === 'anth' ? 'anthropic' : 'openai', ref, 'sk-real-key-123456');
      await e.connect('openai', 'sbx', 'sk-byo-test-valid', { test: true });
    });
    afterAll(async () => {
      await e?.close();
      await receiver?.stop();
    });

    it('exactly N of 5N concurrent calls pass a requests limit; the rest get 429 limit_exceeded in the provider’s shape', async () => {
      const N = 6;
      const set = await put('/v1/customers/conc/limits', { limits: [{ metric: 'requests', window: 'day', max: N }] });
      expect(set.status, set.text).toBe(200);
      const answers = await Promise.all(Array.from({ length: 5 * N }, () => chat('conc')));
      const ok = answers.filter((r) => r.status === 200);
      const refused = answers.filter((r) => r.status === 429);
      expect(ok.length).toBe(N);
      expect(refused.length).toBe(4 * N);
      const r = refused[0] as Response;
      expect(r.headers.get('x-byo-error-source')).toBe('byo');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await r.json()) as { error: { code: string; type: string; message: string } };
      expect(body.error).toMatchObject({ code: 'limit_exceeded', type: 'rate_limit_error' });
      expect(body.error.message).toMatch(/requests per day, max 6/);
      const state = await e.server.request('GET', '/v1/customers/conc/limits', { key: sk() });
      expect(state.body).toMatchObject({
        refId: 'conc',
        source: 'customer',
        limits: [{ metric: 'requests', window: 'day', max: N, used: N, remaining: 0 }],
      });
      expect(Date.parse(state.body.limits[0].resetsAt)).toBeGreaterThan(Date.now());
    });

    it('the project default applies to customers without limits of their own; their own replace it', async () => {
      expect((await put('/v1/limits/default', { limits: [{ metric: 'requests', window: 'hour', max: 1 }] })).status).toBe(200);
      expect((await put('/v1/customers/own/limits', { limits: [{ metric: 'requests', window: 'hour', max: 3 }] })).status).toBe(200);
      expect((await chat('dflt')).status).toBe(200);
      expect((await chat('dflt')).status).toBe(429);
      for (let i = 0; i < 3; i++) expect((await chat('own')).status).toBe(200);
      expect((await chat('own')).status).toBe(429);
      const d = await e.server.request('GET', '/v1/customers/dflt/limits', { key: sk() });
      expect(d.body).toMatchObject({ source: 'default', limits: [{ used: 1, remaining: 0 }] });
      const del = await e.server.request('DELETE', '/v1/limits/default', { key: sk() });
      expect(del.body).toMatchObject({ refId: null, source: 'none', limits: [] });
      expect((await chat('dflt')).status).toBe(200);
    });

    it('windows roll over on the clock (injected): minute, then a new UTC month', async () => {
      const t0 = Date.UTC(2026, 0, 31, 23, 59, 10);
      clock(t0);
      try {
        await put('/v1/customers/roll/limits', {
          limits: [
            { metric: 'requests', window: 'minute', max: 2 },
            { metric: 'requests', window: 'month', max: 3 },
          ],
        });
        expect((await chat('roll')).status).toBe(200);
        expect((await chat('roll')).status).toBe(200);
        const third = await chat('roll');
        expect(third.status).toBe(429);
        expect(third.headers.get('retry-after')).toBe('50'); // until 23:59:00 + 1 min
        clock(t0 + 50_000); // 00:00:00 on February 1: a new minute and a new month
        expect((await chat('roll')).status).toBe(200);
        clock(t0 + 55_000);
        const state = await e.server.request('GET', '/v1/customers/roll/limits', { key: sk() });
        expect(state.body.limits).toEqual([
          expect.objectContaining({ window: 'minute', used: 1, resetsAt: '2026-02-01T00:01:00.000Z' }),
          expect.objectContaining({ window: 'month', used: 1, resetsAt: '2026-03-01T00:00:00.000Z' }),
        ]);
      } finally {
        e.server.app.services.limits.now = Date.now;
      }
    });

    it('a tokens limit reserves the estimate and settles to the provider’s usage', async () => {
      e.mock.intercept(
        { provider: 'openai', path: '/chat/completions' },
        {
          json: {
            id: 'c',
            object: 'chat.completion',
            model: 'gpt-4o-mini',
            choices: [],
            usage: { prompt_tokens: 40, completion_tokens: 60, total_tokens: 100 },
          },
        },
      );
      await put('/v1/customers/tok/limits', {
        limits: [
          { metric: 'tokens', window: 'day', max: 1000 },
          { metric: 'cost_usd', window: 'day', max: 1 },
        ],
      });
      // Without max_tokens the reservation (4096 output tokens by default) does not fit in 1000.
      const big = await chat('tok');
      expect(big.status).toBe(429);
      expect(await big.text()).toMatch(/tokens per day, max 1000/);
      const res = await chat('tok', { max_tokens: 200 });
      expect(res.status).toBe(200);
      expect(e.mock.last()?.json).toMatchObject({ max_tokens: 200 }); // the body read for the estimate went upstream unchanged
      await res.text();
      await new Promise((r) => setTimeout(r, 200));
      const state = await e.server.request('GET', '/v1/customers/tok/limits', { key: sk() });
      expect(state.body.limits[0]).toMatchObject({ metric: 'tokens', used: 100, remaining: 900 });
      // gpt-4o-mini: 40 * 0.15 + 60 * 0.60 per million
      expect(state.body.limits[1].used).toBeCloseTo((40 * 0.15 + 60 * 0.6) / 1e6, 12);
    });

    it('the sandbox route is limited too, and the 429 is in Anthropic’s shape for Anthropic', async () => {
      const t = await e.server.request('PUT', '/v1/customers/sbx/limits', {
        key: e.project.skTest,
        body: { limits: [{ metric: 'requests', window: 'day', max: 1 }] },
      });
      expect(t.status).toBe(200);
      const call = () =>
        fetch(`${e.server.url}/v1/proxy/openai/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${e.project.skTest}`, 'x-byo-ref-id': 'sbx', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(429);

      await put('/v1/customers/anth/limits', { limits: [{ metric: 'requests', window: 'day', max: 1, provider: 'anthropic' }] });
      const client = e.anthropic('anth');
      await client.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      const err = await client.messages
        .create({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
        .catch((x: unknown) => x);
      expect(err).toMatchObject({ status: 429, error: { type: 'error', error: { type: 'rate_limit_error' } } });
    });

    it('limit.warning once when a window crosses its threshold, limit.exceeded once on the first refusal', async () => {
      await put('/v1/customers/evt/limits', { limits: [{ metric: 'requests', window: 'day', max: 5, warnAt: 0.6 }] });
      for (let i = 0; i < 8; i++) await chat('evt');
      await receiver.waitFor(() => receiver.received.filter((r) => r.body.data.refId === 'evt').length >= 2, 10_000, 'limit events');
      await new Promise((r) => setTimeout(r, 500));
      const events = receiver.received.filter((r) => r.body.data.refId === 'evt');
      expect(events.map((r) => r.body.type).sort()).toEqual(['limit.exceeded', 'limit.warning']);
      for (const e of events) expectEventSchema(e);
      const warning = events.find((r) => r.body.type === 'limit.warning');
      expect(warning?.body.data).toMatchObject({
        refId: 'evt',
        scope: 'customer',
        used: 3,
        limit: { metric: 'requests', window: 'day', max: 5, warnAt: 0.6 },
      });
    });

    it('bad limits are refused with a coded 400', async () => {
      for (const limits of [
        [{ metric: 'requests', window: 'week', max: 1 }],
        [{ metric: 'requests', window: 'day', max: 0 }],
        [{ metric: 'tokens', window: 'day', max: 1.5 }],
        [
          { metric: 'requests', window: 'day', max: 1 },
          { metric: 'requests', window: 'day', max: 2 },
        ],
      ]) {
        const r = await put('/v1/customers/x/limits', { limits });
        expect(r.status, JSON.stringify(limits)).toBe(400);
        expect(r.body.code).toBe('validation_failed');
      }
    });
  });
}
