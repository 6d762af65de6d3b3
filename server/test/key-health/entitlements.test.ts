import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockReply } from '../helpers/mock-upstream.js';
import type { TestProject, TestServer } from '../helpers/server.js';
import { eventually } from '../proxy/support.js';
import { expectEventSchema, type Received, type Receiver } from '../webhooks/receiver.js';
import { type KeyHealthEnv, probedKey, startKeyHealthEnv } from './support.js';

/**
 * Entitlements (the models each key lists, read right after connect and at each check,
 * `key.models_changed` when they change) and the operator's view (`GET /v1/keys/health`,
 * `GET /v1/keys?lastOutcome=`), through the running server against a mock provider.
 */

const INTERVAL_MS = 400;

/** The probe's answer per provider key (by the credential it carries); absent: the mock's default. */
const answers = new Map<string, MockReply>();

const openaiList = (...ids: string[]): MockReply => ({
  status: 200,
  json: { object: 'list', data: ids.map((id) => ({ id, object: 'model' })) },
});
const REFUSED: MockReply = { status: 401, json: { error: { message: 'Incorrect API key provided' } } };
const DOWN: MockReply = { status: 502, json: { error: { message: 'Bad gateway' } } };

let env: KeyHealthEnv;
let server: TestServer;
let project: TestProject;
let receiver: Receiver;

beforeAll(async () => {
  env = await startKeyHealthEnv({
    intervalMs: INTERVAL_MS,
    events: ['key.models_changed', 'key.disabled'],
    answer: (req, helpers) => answers.get(probedKey(req)) ?? helpers.defaultReply(),
  });
  ({ server, project, receiver } = env);
}, 180_000);

afterAll(async () => {
  await env?.close();
});

const connect = async (provider: string, refId: string, providerKey: string) => {
  const res = await server.request('POST', '/v1/keys/connect', { key: project.skLive, body: { provider, refId, providerKey } });
  expect(res.status, res.text).toBe(200);
};
const view = async (provider: string, refId: string) =>
  (await server.request('GET', `/v1/keys/${provider}/${refId}`, { key: project.skLive })).body;

describe('entitlements', () => {
  it("right after connect, the key's models are read from the provider's listing", async () => {
    const key = 'sk-proj-modelsFirst0000000000000frst';
    answers.set(key, openaiList('gpt-4o-mini', 'gpt-4o', 'gpt-4o'));
    await connect('openai', 'models_first', key);
    const v = await eventually(async () => {
      const got = await view('openai', 'models_first');
      return got.models ? got : null;
    }, 10_000);
    expect(v.models).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(Date.parse(v.modelsCheckedAt)).toBeGreaterThan(Date.now() - 10_000);
  });

  it("Gemini's listing (models/...) gives bare model ids", async () => {
    const key = 'AIzaSyModelsGoogle000000000000000gogl';
    answers.set(key, {
      status: 200,
      json: { models: [{ name: 'models/gemini-2.0-flash' }, { name: 'models/gemini-1.5-pro' }] },
    });
    await connect('google', 'models_google', key);
    await eventually(async () => (await view('google', 'models_google')).models?.length === 2, 10_000);
    expect((await view('google', 'models_google')).models).toEqual(['gemini-1.5-pro', 'gemini-2.0-flash']);
  });

  it('key.models_changed is sent when the listing changes, with what was added and removed, and not when it stays the same', async () => {
    const key = 'sk-proj-modelsChange000000000000chng';
    answers.set(key, openaiList('gpt-4', 'gpt-4o'));
    await connect('openai', 'models_change', key);
    await eventually(async () => (await view('openai', 'models_change')).models?.length === 2, 10_000);
    const checkedAt = (await view('openai', 'models_change')).modelsCheckedAt;
    await eventually(async () => (await view('openai', 'models_change')).modelsCheckedAt !== checkedAt, 10_000);
    expect(receiver.received.filter((r) => r.body.data.refId === 'models_change')).toEqual([]);

    answers.set(key, openaiList('gpt-4o', 'o3-mini'));
    await receiver.waitFor(
      () => receiver.received.some((r) => r.body.data.refId === 'models_change' && r.body.type === 'key.models_changed'),
      10_000,
      'key.models_changed',
    );
    const event = receiver.received.find((r) => r.body.data.refId === 'models_change');
    expectEventSchema(event as Received);
    expect(event?.body.data).toEqual({
      provider: 'openai',
      refId: 'models_change',
      keyHint: 'sk-proj-...chng',
      added: ['o3-mini'],
      removed: ['gpt-4'],
      count: 2,
    });
    expect((await view('openai', 'models_change')).models).toEqual(['gpt-4o', 'o3-mini']);
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 2));
    expect(receiver.received.filter((r) => r.body.data.refId === 'models_change')).toHaveLength(1);
  });
});

describe("the operator's view", () => {
  it('GET /v1/keys/health counts keys by status and outcome and lists the failing ones with the reason; GET /v1/keys filters by both', async () => {
    const ops = await server.createProject();
    const connectOps = async (refId: string, providerKey: string) => {
      const res = await server.request('POST', '/v1/keys/connect', {
        key: ops.skLive,
        body: { provider: 'openai', refId, providerKey },
      });
      expect(res.status, res.text).toBe(200);
    };
    await connectOps('ops_ok', 'sk-proj-opsValid000000000000000okay');
    await connectOps('ops_down', 'sk-proj-opsDown0000000000000000down');
    await connectOps('ops_dead', 'sk-proj-opsDead0000000000000000dead');
    answers.set('sk-proj-opsDown0000000000000000down', DOWN);
    answers.set('sk-proj-opsDead0000000000000000dead', REFUSED);
    const health = await eventually(async () => {
      const res = await server.request('GET', '/v1/keys/health', { key: ops.skLive });
      expect(res.status, res.text).toBe(200);
      return res.body.byStatus.disabled === 1 && res.body.byOutcome.unreachable === 1 && res.body.byOutcome.valid === 1 ? res.body : null;
    }, 15_000);
    expect(health.byStatus).toEqual({ active: 2, disabled: 1, revoked: 0 });
    expect(health.byOutcome).toEqual({ valid: 1, invalid: 0, unreachable: 1, unchecked: 0 });
    expect(
      Object.fromEntries(health.failing.map((k: any) => [k.refId, [k.status, k.lastValidation.outcome, k.lastValidation.message]])),
    ).toEqual({
      ops_down: ['active', 'unreachable', 'The provider could not check the key (HTTP 502); try again later.'],
      ops_dead: ['disabled', 'invalid', 'The provider rejected the key (HTTP 401).'],
    });

    const list = async (query: string) => {
      const res = await server.request('GET', `/v1/keys?${query}`, { key: ops.skLive });
      expect(res.status, res.text).toBe(200);
      return res.body.data.map((k: { refId: string }) => k.refId).sort();
    };
    expect(await list('lastOutcome=unreachable')).toEqual(['ops_down']);
    expect(await list('lastOutcome=invalid')).toEqual(['ops_dead']);
    expect(await list('lastOutcome=valid&status=active')).toEqual(['ops_ok']);
    expect(await list('status=disabled')).toEqual(['ops_dead']);
    const bad = await server.request('GET', '/v1/keys?lastOutcome=sometimes', { key: ops.skLive });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    // A publishable key sees none of it.
    expect((await server.request('GET', '/v1/keys/health', { key: ops.pkLive })).status).toBe(403);
  });
});
