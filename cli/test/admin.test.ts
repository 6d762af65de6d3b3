import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { CliSandbox, tableRows } from './helpers.js';

/** Operator commands (admin token): projects, api-keys, audit. */

let server: TestServer;
let cli: CliSandbox;
let projectId: string;
let skTest: string;

beforeAll(async () => {
  server = await startTestServer();
  cli = new CliSandbox({ BYO_URL: server.url, BYO_ADMIN_TOKEN: server.adminToken });
});
afterAll(async () => {
  await server?.close();
  cli?.cleanup();
});

describe('byo projects', () => {
  it('create prints the project and its four keys once (human), with a warning on stderr', async () => {
    const r = await cli.run(['projects', 'create', 'Acme', '--allowed-origin', 'https://app.acme.test', '--no-validate-on-connect']);
    expect(r.code, r.stderr).toBe(0);
    const [projectTable, keysTable] = r.stdout.split('\n\n') as [string, string];
    const prow = tableRows(projectTable);
    expect(prow[0]).toEqual(['ID', 'NAME', 'ALLOWED ORIGINS', 'VALIDATE', 'PK CONNECT', 'CREATED']);
    expect(prow[1]?.slice(1, 5)).toEqual(['Acme', 'https://app.acme.test', 'no', 'open']);
    projectId = prow[1]?.[0] as string;
    expect(projectId).toMatch(/^proj_/);
    const keys = tableRows(keysTable);
    expect(keys[0]).toEqual(['ID', 'KIND', 'MODE', 'KEY (SHOWN ONCE)']);
    expect(
      keys
        .slice(1)
        .map((k) => `${k[1]}/${k[2]}`)
        .sort(),
    ).toEqual(['pk/live', 'pk/test', 'sk/live', 'sk/test']);
    skTest = keys.find((k) => k[1] === 'sk' && k[2] === 'test')?.[3] as string;
    expect(skTest).toMatch(/^byo_sk_test_/);
    expect(r.stderr).toContain('Warning: The API keys above are shown only now');
  });

  it('create --json returns the project and keys in the success envelope; the warning is in warnings', async () => {
    const r = await cli.run(['projects', 'create', 'Json Co', '--publishable-connect', 'token_required', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.status).toBe('success');
    expect(r.json.result.project).toMatchObject({ name: 'Json Co', publishableConnect: 'token_required' });
    expect(r.json.result.keys).toHaveLength(4);
    expect(r.json.warnings).toEqual([expect.stringContaining('shown only now')]);
    expect(r.stderr).toBe('');
  });

  it('list shows every project; --json has the same data', async () => {
    const r = await cli.run(['projects', 'list']);
    expect(r.code).toBe(0);
    const rows = tableRows(r.stdout);
    expect(
      rows
        .slice(1)
        .map((x) => x[1])
        .sort(),
    ).toEqual(['Acme', 'Json Co']);
    const j = await cli.run(['projects', 'list', '--json']);
    expect(j.json.result.map((p: { name: string }) => p.name).sort()).toEqual(['Acme', 'Json Co']);
  });

  it('update changes only what is passed; clear flags empty lists', async () => {
    const r = await cli.run(['projects', 'update', projectId, '--name', 'Acme Inc', '--validate-on-connect', '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.result).toMatchObject({
      id: projectId,
      name: 'Acme Inc',
      validateOnConnect: true,
      allowedOrigins: ['https://app.acme.test'],
    });
    const c = await cli.run(['projects', 'update', projectId, '--clear-allowed-origins']);
    expect(c.code).toBe(0);
    expect(c.stderr).toContain('Updated allowedOrigins.');
    const g = await cli.run(['projects', 'get', projectId]);
    expect(g.stdout).toMatch(/name:\s+Acme Inc/);
    expect(g.stdout).toMatch(/allowed origins:\s+-/);
  });

  it('update with nothing to change, or a bad origin, exits 2 with what to fix', async () => {
    const none = await cli.run(['projects', 'update', projectId]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Nothing to update: pass at least one of --name');
    const bad = await cli.run(['projects', 'update', projectId, '--allowed-origin', 'https://app.acme.test/path', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json).toMatchObject({ status: 'error', code: 'validation_failed', exitCode: 2 });
    expect(bad.json.message).toContain('an origin is scheme://host[:port]');
    expect(bad.json.requestId).toMatch(/^req_/);
  });

  it('an unknown project exits 5', async () => {
    const r = await cli.run(['projects', 'get', 'proj_nope', '--json']);
    expect(r.code).toBe(5);
    expect(r.json).toMatchObject({ status: 'error', code: 'project_not_found', exitCode: 5 });
  });

  it('a secret key cannot run admin commands: exit 3 without the admin token, 4 when the server refuses', async () => {
    const noAdmin = await cli.run(['projects', 'list'], { env: { BYO_ADMIN_TOKEN: undefined, BYO_SECRET_KEY: skTest } });
    expect(noAdmin.code).toBe(3);
    expect(noAdmin.stderr).toContain('needs the admin token');
    const asAdmin = await cli.run(['projects', 'list', '--json'], { env: { BYO_ADMIN_TOKEN: skTest } });
    expect(asAdmin.code).toBe(4);
    expect(asAdmin.json).toMatchObject({ code: 'permission_denied', exitCode: 4 });
  });
});

describe('byo api-keys', () => {
  let created: { id: string; key: string };

  it('create prints a new key once; list shows hints only', async () => {
    const r = await cli.run(['api-keys', 'create', projectId, '--kind', 'sk', '--mode', 'live', '--json']);
    expect(r.code).toBe(0);
    created = r.json.result;
    expect(created.key).toMatch(/^byo_sk_live_/);
    const l = await cli.run(['api-keys', 'list', projectId]);
    expect(l.code).toBe(0);
    expect(l.stdout).not.toContain(created.key);
    const row = tableRows(l.stdout).find((x) => x[0] === created.id);
    expect(row?.slice(1, 5)).toEqual(['sk', 'live', `${created.key.slice(0, 12)}...${created.key.slice(-4)}`, 'active']);
  });

  it('roll --expires-in 1h: a new key now, the old one expiring; both work until then', async () => {
    const r = await cli.run(['api-keys', 'roll', created.id, '--expires-in', '1h']);
    expect(r.code, r.stderr).toBe(0);
    const newKey = tableRows(r.stdout)[1]?.[3] as string;
    expect(newKey).toMatch(/^byo_sk_live_/);
    expect(r.stderr).toMatch(/keeps working for 1h, until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    for (const k of [created.key, newKey]) expect((await server.request('GET', '/v1/keys', { key: k })).status).toBe(200);
    const l = await cli.run(['api-keys', 'list', projectId, '--json']);
    expect(l.json.result.find((k: { id: string }) => k.id === created.id).expiresAt).not.toBeNull();
  });

  it('roll rejects a bad duration (exit 2) and one above 7d', async () => {
    const bad = await cli.run(['api-keys', 'roll', created.id, '--expires-in', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expires-in: "soon" is not a duration');
    const long = await cli.run(['api-keys', 'roll', created.id, '--expires-in', '8d', '--json']);
    expect(long.code).toBe(2);
    expect(long.json.message).toBe('--expires-in is at most 7d.');
  });

  it('revoke takes effect at once; a second revoke is fine; unknown id exits 5', async () => {
    const r = await cli.run(['api-keys', 'revoke', created.id]);
    expect(r.code).toBe(0);
    expect(tableRows(r.stdout)[1]?.[4]).toBe('revoked');
    expect((await server.request('GET', '/v1/keys', { key: created.key })).status).toBe(401);
    expect((await cli.run(['api-keys', 'revoke', created.id])).code).toBe(0);
    const missing = await cli.run(['api-keys', 'revoke', 'ak_nope', '--json']);
    expect(missing.code).toBe(5);
    expect(missing.json.code).toBe('api_key_not_found');
  });
});

describe('byo audit', () => {
  it('lists entries newest first and filters by action, actor and since', async () => {
    const r = await cli.run(['audit', '--action', 'api_key.revoked']);
    expect(r.code).toBe(0);
    const rows = tableRows(r.stdout);
    expect(rows[0]).toEqual(['TIME', 'ACTOR', 'ACTION', 'TARGET', 'PROJECT', 'MODE', 'IP']);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.slice(1).every((x) => x[2] === 'api_key.revoked' && x[1] === 'admin')).toBe(true);

    const j = await cli.run(['audit', '--actor', 'admin', '--since', '1h', '--limit', '500', '--json']);
    expect(j.code).toBe(0);
    const actions = j.json.result.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['project.created', 'project.updated', 'api_key.created', 'api_key.rolled', 'api_key.revoked']),
    );
    expect(JSON.stringify(j.json)).not.toContain('byo_sk_');
    // The CLI identifies itself in the audit trail.
    expect(j.json.result[0].userAgent).toBe('byo-cli/0.1.0 (api-keys:revoke)');

    const future = await cli.run(['audit', '--since', '2999-01-01T00:00:00Z']);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe('');
    expect(future.stderr).toContain('No audit entries match.');
  });

  it('a bad --since exits 2', async () => {
    const r = await cli.run(['audit', '--since', 'yesterday-ish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--since takes an ISO timestamp');
  });
});
