import { expect } from 'vitest';
import { type MockHelpers, type MockReply, type MockRequest, type MockUpstream, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { Receiver } from '../webhooks/receiver.js';

export interface KeyHealthEnv {
  mock: MockUpstream;
  server: TestServer;
  project: TestProject;
  receiver: Receiver;
  close(): Promise<void>;
}

/** The provider key a probe carries (Bearer, or Gemini's header). */
export const probedKey = (req: MockRequest): string =>
  String(req.headers.authorization ?? req.headers['x-goog-api-key']).replace(/^Bearer /, '');

/**
 * A server with scheduled checks every `intervalMs`, against a mock provider whose answer to the
 * validation probes (`GET /models`, Gemini's `GET /v1beta/models`) `answer` decides per request,
 * and one live webhook endpoint on a real receiver (`events`: its filter).
 */
export async function startKeyHealthEnv(opts: {
  intervalMs: number;
  answer: (req: MockRequest, helpers: MockHelpers) => MockReply | Promise<MockReply>;
  env?: Record<string, string>;
  events?: string[];
}): Promise<KeyHealthEnv> {
  const mock = await startMockUpstream();
  mock.intercept(
    (req) => req.path === '/models' || req.path === '/v1beta/models',
    (req, _res, helpers) => opts.answer(req, helpers),
  );
  const receiver = await new Receiver().start();
  const server = await startTestServer({
    ...mock.env,
    BYO_KEY_HEALTH_INTERVAL: `${opts.intervalMs}ms`,
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
    BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    BYO_WEBHOOK_POLL_INTERVAL: '50ms',
    ...opts.env,
  });
  const project = await server.createProject();
  const endpoint = await server.request('POST', '/v1/webhooks/endpoints', {
    key: project.skLive,
    body: { url: `${receiver.url}/hooks`, ...(opts.events ? { events: opts.events } : {}) },
  });
  expect(endpoint.status, endpoint.text).toBe(200);
  return {
    mock,
    server,
    project,
    receiver,
    async close() {
      await server.close();
      await mock.close();
      await receiver.stop();
    },
  };
}
