import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type MockReply } from '../helpers/mock-upstream.js';
import type { TestProject, TestServer } from '../helpers/server.js';
import { eventually } from '../proxy/support.js';
import { expectEventSchema, type Receiver } from '../webhooks/receiver.js';
import { type KeyHealthEnv, probedKey, startKeyHealthEnv } from './support.js';

/**
 * Scheduled key checks through the running server (docs/key-health.md): a short
 * BYO_KEY_HEALTH_INTERVAL, a mock provider whose answer to the validation probe (`GET /models`)
 * each test sets per key, and a real webhook receiver.
 */

const INTERVAL_MS = 400;
type Behaviour = 'valid' | 'invalid' | 'down' | (() => MockReply | Promise<MockReply>);

/** How the mock answers the probe for each provider key (by its Authorization header); absent: valid. */
const behaviour = new Map<string, Behaviour>();
/** When each provider key was probed. */
const probes = new Map<string, number[]>();

const REFUSED: MockReply = { status: 401, json: { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } } };
const DOWN: MockReply = { status: 503, json: { error: { message: 'The server is overloaded' } } };

let env: KeyHealthEnv;
let server: TestServer;
let project: TestProject;
let receiver: Receiver;

beforeAll(async () => {
  env = await startKeyHealthEnv({
    intervalMs: INTERVAL_MS,
    env: { BYO_KEY_DISABLE_AFTER: '2' },
    answer: (req, helpers) => {
      const key = probedKey(req);
      probes.set(key, [...(probes.get(key) ?? []), Date.now()]);
      const b = behaviour.get(key) ?? 'valid';
      if (typeof b === 'function') return b();
      return b === 'invalid' ? REFUSED : b === 'down' ? DOWN : helpers.defaultReply();
    },
  });
  ({ server, project, receiver } = env);
}, 180_000);

afterAll(async () => {
  await env?.close();
});

const connect = async (refId: string, providerKey: string) => {
  const res = await server.request('POST', '/v1/keys/connect', { key: project.skLive, body: { provider: 'openai', refId, providerKey } });
  expect(res.status).toBe(200);
  return res.body as { id: string; keyHint: string };
};
const view = async (refId: string) => (await server.request('GET', `/v1/keys/openai/${refId}`, { key: project.skLive })).body;
const eventsFor = (refId: string) =>
  receiver.received
    .filter((r) => r.body.data.refId === refId && (r.body.type === 'key.validation_failed' || r.body.type === 'key.disabled'))
    .map((r) => {
      expectEventSchema(r);
      return r.body;
    });
/** validation_failed by its count, key.disabled after the one that caused it. */
const order = (e: { type: string; data: Record<string, unknown> }) => (e.type === 'key.disabled' ? 1000 : Number(e.data.consecutive));
const probedTimes = (key: string) => probes.get(key)?.length ?? 0;
/** Waits until the key has had `n` more scheduled probes than now. */
const moreProbes = (key: string, n: number) => {
  const target = probedTimes(key) + n;
  return eventually(() => probedTimes(key) >= target, 10_000);
};

describe('scheduled key checks', () => {
  it('a valid key is checked about once per interval and its view says so', async () => {
    const key = 'sk-proj-healthValid0000000000000vald';
    await connect('health_valid', key);
    await moreProbes(key, 3);
    const v = await view('health_valid');
    expect(v.status).toBe('active');
    expect(v.lastValidation).toMatchObject({ outcome: 'valid', message: null });
    expect(Date.parse(v.lastValidation.at)).toBeGreaterThan(Date.now() - 5000);
    // Never twice within (1 - jitter) of an interval.
    const times = probes.get(key) as number[];
    for (let i = 2; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(INTERVAL_MS * 0.9 - 20);
  });

  it('a key that goes bad: key.validation_failed, then key.validation_failed and key.disabled, once each, in that order, delivered', async () => {
    const key = 'sk-proj-healthGoesBad00000000000gbad';
    await connect('health_bad', key);
    await eventually(async () => (await view('health_bad')).lastValidation?.outcome === 'valid', 10_000);
    behaviour.set(key, 'invalid');
    await receiver.waitFor(() => eventsFor('health_bad').some((e) => e.type === 'key.disabled'), 15_000, 'key.disabled');
    const probed = probedTimes(key);
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3)); // a disabled key is no longer checked
    expect(probedTimes(key)).toBe(probed);
    // Emitted in that order (the outbox's sequence); webhooks do not promise delivery order, so
    // the receiver's copy is checked for once each.
    const emitted = await server.app.services.db
      .selectFrom('events')
      .select(['type'])
      .where('project_id', '=', project.id)
      .where(sql<boolean>`data->>'refId' = 'health_bad'`)
      .where('type', '!=', 'key.connected')
      .orderBy('seq')
      .execute();
    expect(emitted.map((e) => e.type)).toEqual(['key.validation_failed', 'key.validation_failed', 'key.disabled']);
    await receiver.waitFor(() => eventsFor('health_bad').length === 3, 10_000, 'three deliveries');
    const events = eventsFor('health_bad').sort((x, y) => order(x) - order(y));
    expect(events.map((e) => e.type)).toEqual(['key.validation_failed', 'key.validation_failed', 'key.disabled']);
    expect(events[0]?.data).toMatchObject({ provider: 'openai', refId: 'health_bad', keyHint: 'sk-proj-...gbad', consecutive: 1 });
    expect(events[1]?.data).toMatchObject({ consecutive: 2, source: 'scheduled_check' });
    expect(String(events[2]?.data.reason)).toMatch(/2 scheduled checks in a row/);
    expect(JSON.stringify(events)).not.toContain(key);
    const v = await view('health_bad');
    expect(v.status).toBe('disabled');
    expect(v.lastValidation).toMatchObject({ outcome: 'invalid', message: 'The provider rejected the key (HTTP 401).' });
    // And the proxy no longer uses it.
    const res = await fetch(`${server.url}/v1/proxy/openai/models`, {
      headers: { authorization: `Bearer ${project.skLive}`, 'x-byo-ref-id': 'health_bad' },
    });
    expect(res.status).toBe(409);
  });

  it('an unreachable provider never disables a key, is retried sooner, and a valid answer afterwards is just valid', async () => {
    const key = 'sk-proj-healthDown00000000000000down';
    await connect('health_down', key);
    await eventually(async () => (await view('health_down')).lastValidation?.outcome === 'valid', 10_000);
    behaviour.set(key, 'down');
    const before = probedTimes(key);
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 4));
    // Backoff from a 64th of the interval: several retries in the time of a few intervals.
    expect(probedTimes(key) - before).toBeGreaterThan(4);
    const v = await view('health_down');
    expect(v.status).toBe('active');
    expect(v.lastValidation).toMatchObject({ outcome: 'unreachable' });
    expect(v.lastValidation.message).toMatch(/HTTP 503/);
    behaviour.set(key, 'valid');
    await eventually(async () => (await view('health_down')).lastValidation?.outcome === 'valid', 10_000);
    expect(eventsFor('health_down')).toEqual([]);
  });

  it('a valid result between invalid ones resets the count: no key.disabled', async () => {
    const key = 'sk-proj-healthFlaky0000000000000flky';
    await connect('health_flaky', key);
    await eventually(async () => (await view('health_flaky')).lastValidation?.outcome === 'valid', 10_000);
    const answers: Behaviour[] = ['invalid', 'valid', 'invalid', 'valid'];
    behaviour.set(key, () => (answers.shift() === 'invalid' ? REFUSED : { status: 200, json: { object: 'list', data: [] } }));
    await eventually(() => answers.length === 0, 15_000);
    await moreProbes(key, 1);
    const events = eventsFor('health_flaky');
    expect(events.map((e) => [e.type, e.data.consecutive])).toEqual([
      ['key.validation_failed', 1],
      ['key.validation_failed', 1],
    ]);
    expect((await view('health_flaky')).status).toBe('active');
  });

  it('a key replaced while its check runs is left alone: no event about the new key from a check of the old one', async () => {
    const oldKey = 'sk-proj-healthReplaceOld000000000old1';
    const newKey = 'sk-proj-healthReplaceNew000000000new2';
    await connect('health_replace', oldKey);
    const reached = gate();
    const release = gate();
    behaviour.set(oldKey, async () => {
      reached.open();
      await release.promise;
      return REFUSED;
    });
    await reached.promise; // the scheduler's probe of the old key is at the provider
    await connect('health_replace', newKey);
    behaviour.set(oldKey, 'invalid');
    release.open();
    await moreProbes(newKey, 2);
    expect(eventsFor('health_replace')).toEqual([]);
    const v = await view('health_replace');
    expect(v).toMatchObject({ status: 'active', keyHint: 'sk-proj-...new2' });
    expect(v.lastValidation.outcome).toBe('valid');
  });
});
