import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, startTestServer, type TestProject, type TestServer, usingPostgres } from '../helpers/server.js';
import { Receiver } from './receiver.js';

/**
 * One tenant's webhook endpoints that never answer must not delay every other
 * tenant's deliveries. Before, delivery was one FIFO: the slow endpoints' backlog held every
 * slot for the whole timeout, wave after wave, and another project's delivery waited behind it.
 */

const TIMEOUT_MS = 3_000;
const CONCURRENCY = 8;
const PER_ENDPOINT = 3;
const PER_PROJECT = 5;

/** Endpoints that accept the request and never answer; counts the requests open at once. */
class BlackHole {
  open = 0;
  maxOpen = 0;
  total = 0;
  private server: Server | null = null;
  url = '';
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.total++;
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      res.on('close', () => this.open--);
      req.resume(); // read the body, answer nothing
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

const env = {
  BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
  BYO_ALLOW_HTTP_UPSTREAMS: 'true',
  BYO_WEBHOOK_TIMEOUT: `${TIMEOUT_MS}ms`,
  BYO_WEBHOOK_CONCURRENCY: String(CONCURRENCY),
  BYO_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: String(PER_ENDPOINT),
  BYO_WEBHOOK_MAX_IN_FLIGHT_PER_PROJECT: String(PER_PROJECT),
  // Retries come back within the run: the slow endpoints keep their backlog due.
  BYO_WEBHOOK_SCHEDULE: '0,100ms,100ms,100ms,100ms',
  BYO_WEBHOOK_POLL_INTERVAL: '100ms',
};

async function addEndpoint(server: TestServer, sk: string, url: string): Promise<void> {
  const res = await server.request('POST', '/v1/webhooks/endpoints', { key: sk, body: { url } });
  expect(res.status, res.text).toBe(200);
}

async function connect(server: TestServer, sk: string, refId: string): Promise<void> {
  const res = await server.request('POST', '/v1/keys/connect', {
    key: sk,
    body: { provider: 'openai', refId, providerKey: 'sk-byo-test-valid' },
  });
  expect(res.status, res.text).toBe(200);
}

/** The slow tenant: 4 endpoints that never answer, 10 connects = 40 deliveries (5 full waves of 8 slots). */
async function flood(server: TestServer, hole: BlackHole): Promise<TestProject> {
  const slow = await server.createProject();
  for (let i = 0; i < 4; i++) await addEndpoint(server, slow.skTest, `${hole.url}/slow${i}`);
  for (let i = 0; i < 10; i++) await connect(server, slow.skTest, `slow_${i}`);
  return slow;
}

describe('webhook delivery is fair across tenants', () => {
  let servers: TestServer[] = [];
  const hole = new BlackHole();
  const receiver = new Receiver();

  beforeAll(async () => {
    await hole.start();
    await receiver.start();
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    servers = [];
    await hole.close();
    await receiver.stop();
  }, 60_000);

  it("another project's delivery arrives promptly while one project's endpoints never answer", async () => {
    const server = await startTestServer(env);
    servers.push(server);
    const other = await server.createProject();
    await addEndpoint(server, other.skTest, `${receiver.url}/other`);
    await flood(server, hole);
    // The slow endpoints now hold what they may of the slots, each for the whole timeout.
    const deadline = Date.now() + 5_000;
    while (hole.open < PER_PROJECT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    const started = Date.now();
    await connect(server, other.skTest, 'other_1');
    await receiver.waitFor(() => receiver.received.some((x) => x.path === '/other'), 10_000, 'the other project delivery');
    const delay = Date.now() - started;
    // Well under one timeout: it did not wait for a slow attempt to give up its slot (before: 15 s).
    expect(delay).toBeLessThan(TIMEOUT_MS / 2);
    // The slow project never held more than its cap of slots, nor one endpoint more than its own.
    expect(hole.maxOpen).toBeLessThanOrEqual(PER_PROJECT);
    const perEndpoint = await server.app.services.db
      .selectFrom('webhook_deliveries')
      .select(['endpoint_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('status', '=', 'pending')
      .where('locked_until', '>', new Date())
      .groupBy('endpoint_id')
      .execute();
    for (const row of perEndpoint) expect(Number(row.n)).toBeLessThanOrEqual(PER_ENDPOINT);
    await server.close();
    servers = servers.filter((s) => s !== server);
  }, 60_000);

  it.runIf(usingPostgres)(
    'the caps hold across two instances sharing the database',
    async () => {
      // Same schema, master keys and admin token: two instances of one deployment.
      const shared = {
        ...env,
        BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}`,
        BYO_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        BYO_ADMIN_TOKEN: `admin_${randomBytes(24).toString('hex')}`,
      };
      const a = await startTestServer(shared);
      servers.push(a);
      const b = await startTestServer(shared);
      servers.push(b);
      hole.maxOpen = hole.open;
      const other = await a.createProject();
      await addEndpoint(a, other.skTest, `${receiver.url}/other2`);
      await flood(a, hole);
      await new Promise((r) => setTimeout(r, 500));
      const started = Date.now();
      await connect(b, other.skTest, 'other_2');
      await receiver.waitFor(() => receiver.received.some((x) => x.path === '/other2'), 10_000, 'the other project delivery');
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2);
      // Both instances together: the project cap, plus at most one racing claim per instance.
      expect(hole.maxOpen).toBeLessThanOrEqual(PER_PROJECT * 2);
      for (const s of [a, b]) await s.close();
      servers = servers.filter((s) => s !== a && s !== b);
      await dropSchema(shared.BYO_DATABASE_SCHEMA);
    },
    60_000,
  );
});
