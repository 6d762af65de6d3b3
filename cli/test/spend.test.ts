import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { CliSandbox, tableRows } from './helpers.js';

/** `byo prices` and the cost in `byo usage`, as a process against a real server. */
let server: TestServer;
let project: TestProject;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer({ BYO_USAGE_FLUSH_INTERVAL: '50ms' });
  project = await server.createProject();
  cli = new CliSandbox({ BYO_URL: server.url, BYO_SECRET_KEY: project.skTest });
});
afterAll(async () => {
  await server?.close();
  cli?.cleanup();
});

describe('byo prices', () => {
  it('set, list (one model resolved, as a table and JSON) and delete', async () => {
    const set = await cli.run(['prices', 'set', 'openai', 'gpt-4o', '--input', '1', '--output', '4', '--cached-input', '0.5', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json.result).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o',
      input: 1,
      output: 4,
      cachedInput: 0.5,
      source: 'override',
    });

    const one = await cli.run(['prices', 'list', '--provider', 'openai', '--model', 'gpt-4o-2024-08-06']);
    expect(one.code, one.stderr).toBe(0);
    const rows = tableRows(one.stdout);
    expect(rows[0]).toEqual(['PROVIDER', 'MODEL', 'INPUT', 'OUTPUT', 'CACHED INPUT', 'CACHE WRITE', 'SOURCE']);
    expect(rows[1]?.slice(0, 4)).toEqual(['openai', 'gpt-4o', '1', '4']);
    expect(one.stderr).toMatch(/as of \d{4}-\d{2}-\d{2}/);

    const unpriced = await cli.run(['prices', 'list', '--provider', 'openai', '--model', 'ft:gpt-4o:acme::x', '--json']);
    expect(unpriced.json.result.data).toEqual([]);

    const del = await cli.run(['prices', 'delete', 'openai', 'gpt-4o', '--json']);
    expect(del.json.result).toEqual({ provider: 'openai', model: 'gpt-4o', deleted: true });
  });

  it('a bad price is refused with its code and a non-zero exit', async () => {
    const r = await cli.run(['prices', 'set', 'openai', 'gpt-4o', '--input', '-3', '--output', '1', '--json']);
    expect(r.code).not.toBe(0);
    expect(JSON.stringify(r.json)).toContain('validation_failed');
    const nan = await cli.run(['prices', 'set', 'openai', 'gpt-4o', '--input', 'ten', '--output', '1']);
    expect(nan.code).not.toBe(0);
    expect(nan.stderr).toMatch(/not a number/);
  });
});

describe('byo usage', () => {
  it('shows the cost of each row and the total', async () => {
    await server.request('POST', '/v1/keys/connect', {
      key: project.skTest,
      body: { provider: 'openai', refId: 'cust_cli', providerKey: 'sk-byo-test-valid' },
    });
    const call = await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': 'cust_cli', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(call.status).toBe(200);
    const r = await cli.run(['usage', '--ref-id', 'cust_cli', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.data[0].costUsd).toBeGreaterThan(0);
    const h = await cli.run(['usage', '--ref-id', 'cust_cli']);
    expect(h.stderr).toMatch(/\$0\.\d{6}/);

    // Each row names the key that paid (the answer's x-byo-key-id); --key-id narrows to it.
    const keyId = call.headers.get('x-byo-key-id');
    expect(r.json.result.data[0].keyId).toBe(keyId);
    expect(tableRows(h.stdout)[0]).toContain('KEY ID');
    const byKey = await cli.run(['usage', '--key-id', keyId as string, '--json']);
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.json.result.data.map((d: { refId: string }) => d.refId)).toEqual(['cust_cli']);
    const other = await cli.run(['usage', '--key-id', 'key_nosuchkey', '--json']);
    expect(other.json.result.data).toEqual([]);
  });
});

describe('byo customers', () => {
  it('list (table and JSON) and get', async () => {
    const list = await cli.run(['customers', 'list', '--prefix', 'cust_', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.result.data).toEqual([
      expect.objectContaining({ refId: 'cust_cli', keys: [{ provider: 'openai', status: 'active' }] }),
    ]);
    const table = await cli.run(['customers', 'list']);
    expect(tableRows(table.stdout)[0]).toEqual(['REF ID', 'KEYS', 'LAST USE', 'REQUESTS', 'TOKENS', 'COST USD', 'LIMIT USE']);
    const one = await cli.run(['customers', 'get', 'cust_cli', '--json']);
    expect(one.json.result).toMatchObject({ refId: 'cust_cli', limits: { source: 'none' } });
    const missing = await cli.run(['customers', 'get', 'nobody', '--json']);
    expect(missing.code).not.toBe(0);
    expect(JSON.stringify(missing.json)).toContain('not_found');
  });
});

describe("byo limits and the key owner's cap", () => {
  it('limits set|get|clear for a customer and the default; a malformed --limit is refused before any call', async () => {
    const set = await cli.run([
      'limits',
      'set',
      '--ref-id',
      'cust_lim',
      '--limit',
      'cost_usd:month:50',
      '--limit',
      'requests:minute:60:openai',
      '--json',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json.result).toMatchObject({
      refId: 'cust_lim',
      source: 'customer',
      limits: [
        { metric: 'cost_usd', window: 'month', max: 50, provider: null, used: 0 },
        { metric: 'requests', window: 'minute', max: 60, provider: 'openai' },
      ],
    });
    const get = await cli.run(['limits', 'get', '--ref-id', 'cust_lim']);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toMatch(/cost_usd\/month: 50:\s+0 used, 50 left/);
    const dflt = await cli.run(['limits', 'set', '--limit', 'tokens:day:1000', '--json']);
    expect(dflt.json.result).toMatchObject({ refId: null, source: 'default' });
    expect((await cli.run(['limits', 'clear', '--ref-id', 'cust_lim', '--json'])).json.result.source).toBe('default');
    expect((await cli.run(['limits', 'clear', '--json'])).json.result.source).toBe('none');

    const bad = await cli.run(['limits', 'set', '--ref-id', 'cust_lim', '--limit', 'requests:week:5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/the window is one of minute, hour, day, month/);
    const fractional = await cli.run(['limits', 'set', '--ref-id', 'cust_lim', '--limit', 'requests:day:1.5', '--json']);
    expect(fractional.code).not.toBe(0);
    expect(JSON.stringify(fractional.json)).toContain('validation_failed');
  });

  it("keys lower-limits lowers the owner's cap and refuses to raise it; keys get shows it", async () => {
    const c = await server.request('POST', '/v1/keys/connect', {
      key: project.skTest,
      body: {
        provider: 'openai',
        refId: 'cust_cap',
        providerKey: 'sk-byo-test-valid',
        limits: [{ metric: 'cost_usd', window: 'month', max: 50 }],
      },
    });
    expect(c.status, c.text).toBe(200);
    const low = await cli.run(['keys', 'lower-limits', 'openai', 'cust_cap', '--limit', 'cost_usd:month:20', '--json']);
    expect(low.code, low.stderr).toBe(0);
    expect(low.json.result.limits).toEqual([{ metric: 'cost_usd', window: 'month', max: 20 }]);
    const raise = await cli.run(['keys', 'lower-limits', 'openai', 'cust_cap', '--limit', 'cost_usd:month:80']);
    expect(raise.code).not.toBe(0);
    expect(raise.stderr).toMatch(/owner_limit_locked|only be lowered/);
    const get = await cli.run(['keys', 'get', 'openai', 'cust_cap']);
    expect(get.stdout).toMatch(/owner's cap:\s+cost_usd\/month: 20/);
    const customer = await cli.run(['customers', 'get', 'cust_cap']);
    expect(customer.stdout).toMatch(/owners' caps:\s+openai key: cost_usd\/month: 0 of 20/);
    // The customers table shows the limit nearest its max.
    await cli.run(['limits', 'set', '--ref-id', 'cust_cap', '--limit', 'requests:month:4']);
    await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': 'cust_cap', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.text());
    const list = await cli.run(['customers', 'list', '--prefix', 'cust_cap']);
    expect(tableRows(list.stdout)[1]?.at(-1)).toBe('25% (requests/month: 1 of 4)');
  });
});
