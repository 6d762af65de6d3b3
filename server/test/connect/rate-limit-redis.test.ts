import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { canaryKey, copyProject, expectNoLeaks, waitFor } from '../helpers/support.js';

/** With REDIS_URL, two instances count publishable-key connects together. */

const REDIS_URL = 'redis://127.0.0.1:6379';
const PER_KEY = 6;
let one: TestServer;
let two: TestServer;
let project: TestProject;
const canaries: string[] = [];

const APP = 'https://app.example.com';
beforeAll(async () => {
  // A prefix of this run's own, so no other run's counters mix in.
  const env = {
    REDIS_URL,
    BYO_REDIS_PREFIX: `byo_test_${randomBytes(6).toString('hex')}`,
    BYO_RATE_LIMIT_CONNECT_PER_KEY: String(PER_KEY),
    BYO_RATE_LIMIT_CONNECT_PER_IP: '1000',
  };
  [one, two] = await Promise.all([startTestServer(env), startTestServer(env)]);
  project = await one.createProject({ allowedOrigins: [APP] });
  await copyProject(one, two, project.id);
}, 180_000);

afterAll(async () => {
  for (const s of [one, two]) {
    if (!s) continue;
    await expectNoLeaks(s, canaries);
    await s.close();
  }
}, 180_000);

describe('rate limits shared through Redis', () => {
  it('two instances accept at most the per-key limit between them', async () => {
    // While its Redis connection is not ready (a start that blocked the event loop can make it
    // reconnect), an instance counts in memory: the designed fallback, not what is tested here.
    await waitFor(() => one.app.services.rateLimits.store === 'ready' && two.app.services.rateLimits.store === 'ready', 30_000);
    const statuses: number[] = [];
    for (let i = 0; i < PER_KEY * 2; i++) {
      const server = i % 2 ? two : one;
      const providerKey = canaryKey('redis');
      canaries.push(providerKey);
      const res = await server.request('POST', '/v1/keys/connect', {
        key: project.pkLive,
        body: { provider: 'openai', refId: `redis_${i}`, providerKey },
        headers: { origin: APP }, // from the browser on the allowed origin
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(PER_KEY);
    expect(statuses.slice(PER_KEY)).toEqual(Array(PER_KEY).fill(429));
    // Both instances served some of the accepted ones and refused some of the rest.
    expect(statuses.filter((s, i) => s === 200 && i % 2 === 1).length).toBeGreaterThan(0);
  });
});
