import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { CliSandbox } from './helpers.js';

/** `byo webhooks test <id> --event <type>`, run as the built binary against a started server. */

let server: TestServer;
let project: TestProject;
let cli: CliSandbox;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = req.url?.startsWith('/fail') ? 500 : 200;
      res.end(req.url?.startsWith('/fail') ? 'receiver crashed' : 'ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  server = await startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1' });
  project = await server.createProject();
  cli = new CliSandbox({ BYO_URL: server.url, BYO_SECRET_KEY: project.skTest });
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => receiver?.close(r));
  cli?.cleanup();
});

async function addEndpoint(path: string): Promise<{ id: string; secret: string }> {
  const res = await server.request('POST', '/v1/webhooks/endpoints', { key: project.skTest, body: { url: `${receiverUrl}${path}` } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

function signedBy(secret: string, r: { headers: IncomingHttpHeaders; body: string }): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(r.body).digest('hex'));
  const got = Buffer.from(String(r.headers['x-byo-signature']));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('byo webhooks test --event', () => {
  it('sends a signed sample of the chosen type and prints the result (human and --json)', async () => {
    const ep = await addEndpoint('/ok');
    const human = await cli.run(['webhooks', 'test', ep.id, '--event', 'key.disabled']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/event:\s+key\.disabled/);
    expect(human.stdout).toMatch(/result:\s+delivered/);
    expect(human.stdout).toMatch(/status code:\s+200/);
    const sample = received.filter((r) => r.path === '/ok').at(-1);
    const body = JSON.parse(sample?.body ?? '{}');
    expect(body).toMatchObject({
      type: 'key.disabled',
      mode: 'test',
      data: { provider: 'openai', refId: 'ref_test', keyHint: 'sk-...test' },
    });
    expect(typeof body.data.reason).toBe('string');
    expect(signedBy(ep.secret, sample as (typeof received)[number])).toBe(true);

    const json = await cli.run(['webhooks', 'test', ep.id, '--event', 'key.connected', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json).toMatchObject({
      status: 'success',
      result: { success: true, statusCode: 200, delivery: { eventType: 'key.connected' } },
    });
    const last = JSON.parse(received.filter((r) => r.path === '/ok').at(-1)?.body ?? '{}');
    expect(last.id).toBe(json.json.result.eventId);
    expect(Object.keys(last.data).sort()).toEqual(['by', 'keyHint', 'provider', 'refId', 'replaced']);
  });

  it('defaults to webhook.test', async () => {
    const ep = await addEndpoint('/default');
    const r = await cli.run(['webhooks', 'test', ep.id, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.delivery.eventType).toBe('webhook.test');
    expect(JSON.parse(received.filter((x) => x.path === '/default').at(-1)?.body ?? '{}').type).toBe('webhook.test');
  });

  it('exits 8 when the endpoint fails, and says how to retry with the same event', async () => {
    const ep = await addEndpoint('/fail');
    const r = await cli.run(['webhooks', 'test', ep.id, '--event', 'key.revoked']);
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/status code:\s+500/);
    expect(r.stderr).toContain(`then run \`byo webhooks test ${ep.id} --event key.revoked\` again.`);
    const j = await cli.run(['webhooks', 'test', ep.id, '--event', 'key.validation_failed', '--json']);
    expect(j.code).toBe(8);
    expect(j.json).toMatchObject({
      status: 'error',
      code: 'webhook_test_failed',
      exitCode: 8,
      result: { success: false, statusCode: 500, delivery: { eventType: 'key.validation_failed' } },
    });
  });

  it('takes every event type the server sends (the lists are generated from its OpenAPI document)', async () => {
    const ep = await addEndpoint('/every');
    for (const type of ['key.models_changed', 'limit.warning', 'limit.exceeded']) {
      const r = await cli.run(['webhooks', 'test', ep.id, '--event', type, '--json']);
      expect(r.code, `${type}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(received.filter((x) => x.path === '/every').at(-1)?.body ?? '{}').type).toBe(type);
    }
    const log = await cli.run(['webhooks', 'deliveries', '--endpoint', ep.id, '--event', 'limit.exceeded', '--json']);
    expect(log.code, log.stderr).toBe(0);
    expect(log.json.result.data.map((d: { eventType: string }) => d.eventType)).toEqual(['limit.exceeded']);
    const sub = await cli.run([
      'webhooks',
      'add',
      `${receiverUrl}/limits`,
      '--event',
      'limit.warning',
      '--event',
      'limit.exceeded',
      '--json',
    ]);
    expect(sub.code, sub.stderr).toBe(0);
    expect(sub.json.result.events).toEqual(['limit.warning', 'limit.exceeded']);
  });

  it('refuses an unknown event type as a usage error (exit 2) without calling the server', async () => {
    const ep = await addEndpoint('/usage');
    const r = await cli.run(['webhooks', 'test', ep.id, '--event', 'key.created']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key.created');
    expect(received.filter((x) => x.path === '/usage')).toHaveLength(0);
  });
});
