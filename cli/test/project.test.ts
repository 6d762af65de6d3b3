import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { CliSandbox, tableRows } from './helpers.js';

/** Project commands (secret key): keys, webhooks, usage, providers. */

let server: TestServer;
let project: TestProject;
let cli: CliSandbox;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = req.url?.startsWith('/fail') ? 503 : 200;
      res.end(req.url?.startsWith('/fail') ? 'down for maintenance' : 'ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // No scheduled key checks: each key's last check is the one these tests make.
  server = await startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1', BYO_KEY_HEALTH_INTERVAL: '0' });
  project = await server.createProject();
  cli = new CliSandbox({ BYO_URL: server.url, BYO_SECRET_KEY: project.skTest });
  const connect = (refId: string, provider: string, providerKey: string) =>
    server.request('POST', '/v1/keys/connect', { key: project.skTest, body: { provider, refId, providerKey } });
  for (const [refId, provider, key] of [
    ['cust_a', 'openai', 'sk-byo-test-valid'],
    ['cust_b', 'anthropic', 'sk-byo-test-valid'],
    ['cust_c', 'openai', 'sk-byo-test-invalid'],
  ] as const) {
    const r = await connect(refId, provider, key);
    expect(r.status, r.text).toBe(200);
  }
  // A live key, which a test key must never see.
  await server.request('POST', '/v1/keys/connect', {
    key: project.skLive,
    body: { provider: 'openai', refId: 'live_only', providerKey: 'sk-live-0123456789abcdef' },
  });
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => receiver?.close(r));
  cli?.cleanup();
});

describe('byo keys', () => {
  it('list shows metadata only, in the key mode', async () => {
    const r = await cli.run(['keys', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const rows = tableRows(r.stdout);
    expect(rows[0]).toEqual(['PROVIDER', 'REF ID', 'STATUS', 'KEY', 'BASE URL', 'LAST CHECK', 'MODELS', 'UPDATED']);
    expect(
      rows
        .slice(1)
        .map((x) => x[1])
        .sort(),
    ).toEqual(['cust_a', 'cust_b', 'cust_c']);
    expect(r.stdout).not.toContain('sk-byo-test-valid');
  });

  it('list filters by provider, refId and status, and pages with --all', async () => {
    const p = await cli.run(['keys', 'list', '--provider', 'anthropic', '--json']);
    expect(p.json.result.data.map((k: { refId: string }) => k.refId)).toEqual(['cust_b']);
    const ref = await cli.run(['keys', 'list', '--ref-id', 'cust_a', '--json']);
    expect(ref.json.result.data).toHaveLength(1);
    const paged = await cli.run(['keys', 'list', '--limit', '2']);
    expect(tableRows(paged.stdout)).toHaveLength(3);
    expect(paged.stderr).toMatch(/More keys: --cursor \S+ \(or --all\)/);
    const all = await cli.run(['keys', 'list', '--limit', '1', '--all', '--json']);
    expect(all.json.result.data).toHaveLength(3);
    expect(all.json.result.nextCursor).toBeNull();
  });

  it('get shows one key; an unknown refId exits 5 with the server message', async () => {
    const r = await cli.run(['keys', 'get', 'openai', 'cust_a']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ref id:\s+cust_a/);
    expect(r.stdout).toMatch(/status:\s+active/);
    const missing = await cli.run(['keys', 'get', 'openai', 'nobody']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('No openai key is connected for refId "nobody".');
    expect(missing.stderr).toMatch(/request id: req_/);
  });

  it('validate exits 0 for a valid key and 8 for one the provider rejects (which is then disabled)', async () => {
    const ok = await cli.run(['keys', 'validate', 'openai', 'cust_a', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json.result).toMatchObject({ valid: true, result: 'valid' });
    const bad = await cli.run(['keys', 'validate', 'openai', 'cust_c']);
    expect(bad.code).toBe(8);
    expect(bad.stdout).toMatch(/result:\s+invalid/);
    expect(bad.stderr).toContain('ask the customer to connect a new one');
    const disabled = await cli.run(['keys', 'list', '--status', 'disabled', '--json']);
    expect(disabled.json.result.data.map((k: { refId: string }) => k.refId)).toEqual(['cust_c']);
  });

  it('health counts keys by status and last check and lists the failing ones with the reason; list filters by last outcome', async () => {
    const r = await cli.run(['keys', 'health']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/keys:\s+2 active, 1 disabled, 0 revoked/);
    expect(r.stdout).toMatch(/active keys:\s+1 valid, 0 invalid, 0 unreachable, 1 not checked yet/);
    const rows = tableRows(r.stdout.slice(r.stdout.indexOf('PROVIDER')));
    expect(rows[0]).toEqual(['PROVIDER', 'REF ID', 'STATUS', 'KEY', 'OUTCOME', 'CHECKED', 'REASON']);
    expect(rows.slice(1).map((x) => [x[1], x[2], x[4]])).toEqual([['cust_c', 'disabled', 'invalid']]);
    expect(r.stdout).toContain('The provider rejected the key (sandbox: sk-byo-test-invalid).');
    const json = await cli.run(['keys', 'health', '--json']);
    expect(json.json.result).toMatchObject({
      byStatus: { active: 2, disabled: 1, revoked: 0 },
      byOutcome: { valid: 1, invalid: 0, unreachable: 0, unchecked: 1 },
    });
    expect(json.json.result.failing[0].lastValidation).toMatchObject({ outcome: 'invalid' });
    const invalid = await cli.run(['keys', 'list', '--last-outcome', 'invalid', '--json']);
    expect(invalid.json.result.data.map((k: { refId: string }) => k.refId)).toEqual(['cust_c']);
    const get = await cli.run(['keys', 'get', 'openai', 'cust_c']);
    expect(get.stdout).toMatch(/last check:\s+invalid at .* \(The provider rejected the key/);
  });

  it('revoke destroys the key at once and is idempotent', async () => {
    const r = await cli.run(['keys', 'revoke', 'anthropic', 'cust_b']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status:\s+revoked/);
    const again = await cli.run(['keys', 'revoke', 'anthropic', 'cust_b', '--json']);
    expect(again.code).toBe(0);
    expect(again.json.result.status).toBe('revoked');
    const v = await cli.run(['keys', 'validate', 'anthropic', 'cust_b', '--json']);
    expect(v.code).toBe(6);
    expect(v.json.code).toBe('key_revoked');
  });

  it('needs a secret key: an admin-only setup exits 3 and says how to get one', async () => {
    const r = await cli.run(['keys', 'list'], { env: { BYO_SECRET_KEY: undefined, BYO_ADMIN_TOKEN: server.adminToken } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('needs its secret key (byo_sk_...)');
  });

  it('a live key sees live keys only', async () => {
    const r = await cli.run(['keys', 'list', '--json'], { env: { BYO_SECRET_KEY: project.skLive } });
    expect(r.json.result.data.map((k: { refId: string }) => k.refId)).toEqual(['live_only']);
  });
});

describe('byo webhooks', () => {
  let endpointId: string;
  let failingId: string;

  it('add prints the endpoint and its signing secret once', async () => {
    const r = await cli.run([
      'webhooks',
      'add',
      `${receiverUrl}/hook`,
      '--event',
      'key.revoked',
      '--event',
      'key.disabled',
      '--description',
      'alerts',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rows = tableRows(r.stdout.split('\n\n')[0] as string);
    endpointId = rows[1]?.[0] as string;
    expect(endpointId).toMatch(/^we_/);
    expect(rows[1]?.slice(1, 4)).toEqual([`${receiverUrl}/hook`, 'key.revoked,key.disabled', 'yes']);
    expect(r.stdout).toMatch(/signing secret \(shown once\):\s+whsec_/);
    expect(r.stderr).toContain('Warning: The signing secret above is shown only now');
    const j = await cli.run(['webhooks', 'add', `${receiverUrl}/fail`, '--json']);
    expect(j.code).toBe(0);
    failingId = j.json.result.id;
    expect(j.json.result.secret).toMatch(/^whsec_/);
    expect(j.json.result.events).toEqual(['*']);
  });

  it('add refuses a URL the server does not allow (exit 2)', async () => {
    const r = await cli.run(['webhooks', 'add', 'http://10.0.0.1/hook', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.status).toBe('error');
  });

  it('list shows both endpoints, without secrets', async () => {
    const r = await cli.run(['webhooks', 'list']);
    expect(r.code).toBe(0);
    expect(
      tableRows(r.stdout)
        .slice(1)
        .map((x) => x[0])
        .sort(),
    ).toEqual([endpointId, failingId].sort());
    expect(r.stdout).not.toContain('whsec_');
  });

  it('test prints the delivery result: exit 0 on 2xx, 8 (with the result) when the endpoint fails', async () => {
    const ok = await cli.run(['webhooks', 'test', endpointId]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/result:\s+delivered/);
    expect(ok.stdout).toMatch(/status code:\s+200/);
    const delivered = received.find((x) => x.path === '/hook' && x.body.includes('"webhook.test"'));
    expect(delivered?.headers['x-byo-signature']).toMatch(/^[0-9a-f]{64}$/);

    const bad = await cli.run(['webhooks', 'test', failingId]);
    expect(bad.code).toBe(8);
    expect(bad.stdout).toMatch(/status code:\s+503/);
    expect(bad.stdout).toContain('down for maintenance');
    expect(bad.stderr).toContain(
      `The endpoint answered HTTP 503. Check that the receiver is up and returns 2xx, then run \`byo webhooks test ${failingId}\` again.`,
    );
    const j = await cli.run(['webhooks', 'test', failingId, '--json']);
    expect(j.code).toBe(8);
    expect(j.json).toMatchObject({
      status: 'error',
      code: 'webhook_test_failed',
      exitCode: 8,
      result: { success: false, statusCode: 503 },
    });
  });

  it('update changes URL, events and state', async () => {
    const r = await cli.run(['webhooks', 'update', failingId, '--disable', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.result.enabled).toBe(false);
    const e = await cli.run(['webhooks', 'update', failingId, '--url', `${receiverUrl}/hook2`, '--enable', '--event', '*']);
    expect(e.code).toBe(0);
    expect(tableRows(e.stdout)[1]?.slice(1, 4)).toEqual([`${receiverUrl}/hook2`, '*', 'yes']);
    const none = await cli.run(['webhooks', 'update', failingId]);
    expect(none.code).toBe(2);
  });

  it('rotate-secret prints the new secret once and the overlap', async () => {
    const r = await cli.run(['webhooks', 'rotate-secret', endpointId, '--overlap', '2h']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/new signing secret \(shown once\):\s+whsec_/);
    expect(r.stderr).toMatch(/The previous secret also signs deliveries for 2h, until \d{4}-/);
    const now = await cli.run(['webhooks', 'rotate-secret', endpointId, '--overlap', '0', '--json']);
    expect(now.json.result.previousSecretExpiresAt).toBeNull();
    const bad = await cli.run(['webhooks', 'rotate-secret', endpointId, '--overlap', '8d']);
    expect(bad.code).toBe(2);
  });

  it('deliveries lists the log with filters; redeliver queues one again', async () => {
    const r = await cli.run(['webhooks', 'deliveries', '--endpoint', failingId, '--event', 'webhook.test', '--json']);
    expect(r.code).toBe(0);
    const failed = r.json.result.data.filter((d: { status: string }) => d.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    const h = await cli.run(['webhooks', 'deliveries', '--status', 'succeeded']);
    expect(tableRows(h.stdout)[0]).toEqual([
      'ID',
      'EVENT',
      'EVENT ID',
      'ENDPOINT',
      'STATUS',
      'ATTEMPTS',
      'LAST CODE',
      'NEXT ATTEMPT',
      'CREATED',
    ]);
    const re = await cli.run(['webhooks', 'redeliver', failed[0].id]);
    expect(re.code, re.stderr).toBe(0);
    expect(re.stderr).toContain(`Queued ${failed[0].id} for redelivery.`);
    const missing = await cli.run(['webhooks', 'redeliver', 'wd_nope', '--json']);
    expect(missing.code).toBe(5);
  });

  it('remove deletes the endpoint; removing again exits 5', async () => {
    const r = await cli.run(['webhooks', 'remove', failingId, '--json']);
    expect(r.json).toEqual({ status: 'success', result: { id: failingId, deleted: true }, warnings: [] });
    const again = await cli.run(['webhooks', 'remove', failingId]);
    expect(again.code).toBe(5);
  });
});

describe('byo usage', () => {
  it('shows usage of proxied calls per refId, provider and model', async () => {
    const call = await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': 'cust_a', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(call.status, await call.text()).toBe(200);
    const r = await cli.run(['usage', '--ref-id', 'cust_a', '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.result.data).toEqual([expect.objectContaining({ refId: 'cust_a', provider: 'openai', requests: 1, errors: 0 })]);
    expect(r.json.result.totals.requests).toBe(1);
    const h = await cli.run(['usage']);
    expect(h.code).toBe(0);
    expect(tableRows(h.stdout)[0]).toEqual([
      'DAY',
      'REF ID',
      'PROVIDER',
      'KEY ID',
      'MODEL',
      'REQUESTS',
      'ERRORS',
      'INPUT TOKENS',
      'OUTPUT TOKENS',
      'COST USD',
      'AVG MS',
    ]);
    expect(h.stderr).toMatch(/1 request\(s\), 0 error\(s\)/);
  });
});

describe('byo providers list', () => {
  it('lists every provider with its proxy path and credential fields, as a table and as JSON', async () => {
    const j = await cli.run(['providers', 'list', '--json']);
    expect(j.code, j.stdout).toBe(0);
    const ids = j.json.result.data.map((p: { id: string }) => p.id);
    expect(ids.slice(0, 3)).toEqual(['openai', 'anthropic', 'google']);
    expect(ids).toEqual(expect.arrayContaining(['groq', 'mistral', 'openrouter', 'perplexity']));
    const t = await cli.run(['providers', 'list']);
    expect(t.code, t.stderr).toBe(0);
    const rows = tableRows(t.stdout);
    expect(rows[0]).toEqual(['ID', 'NAME', 'PROXY', 'UPSTREAM', 'CREDENTIALS']);
    expect(rows.find((r) => r[0] === 'openai')?.[4]).toBe('providerKey, providerConfig.baseUrl?');
    expect(rows.find((r) => r[0] === 'groq')?.slice(0, 3)).toEqual(['groq', 'Groq', '/v1/proxy/groq']);
  });

  it('takes every provider where a provider is asked for', async () => {
    await server.request('POST', '/v1/keys/connect', {
      key: project.skTest,
      body: { provider: 'groq', refId: 'cust_groq', providerKey: 'sk-byo-test-valid' },
    });
    const r = await cli.run(['keys', 'get', 'groq', 'cust_groq', '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.result).toMatchObject({ provider: 'groq', refId: 'cust_groq', status: 'active' });
  });
});
