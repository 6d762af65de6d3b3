import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { CliSandbox } from './helpers.js';

/** login / logout / whoami, profiles and the BYO_* overrides, and the error envelope. */

let server: TestServer;
let project: TestProject;
const cli = new CliSandbox();

beforeAll(async () => {
  server = await startTestServer();
  project = await server.createProject();
});
afterAll(async () => {
  await server?.close();
  cli.cleanup();
});

const profilesPath = () => join(cli.configHome, 'byo', 'profiles.json');

describe('byo login', () => {
  it('reads the admin token from stdin, verifies it and stores it in a 0600 profile under XDG_CONFIG_HOME', async () => {
    const r = await cli.run(['login', '--url', server.url], { input: `${server.adminToken}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Logged in to ${server.url} with the admin token`);
    expect(r.stderr).not.toContain(server.adminToken);
    expect(r.stdout).toBe('');
    expect(statSync(profilesPath()).mode & 0o777).toBe(0o600);
    expect(statSync(join(cli.configHome, 'byo')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(profilesPath(), 'utf8'));
    expect(stored.profiles.default).toMatchObject({ url: server.url, adminToken: server.adminToken });
  });

  it('adds a secret key to the same profile, keeping the admin token', async () => {
    const r = await cli.run(['login', '--json'], { input: project.skTest });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toEqual({
      status: 'success',
      result: {
        profile: 'default',
        url: server.url,
        credential: 'secret',
        mode: 'test',
        hint: `${project.skTest.slice(0, 12)}...${project.skTest.slice(-4)}`,
        verified: true,
        path: profilesPath(),
      },
      warnings: [],
    });
    const stored = JSON.parse(readFileSync(profilesPath(), 'utf8'));
    expect(stored.profiles.default).toMatchObject({ adminToken: server.adminToken, secretKey: project.skTest });
  });

  it('refuses a credential passed as an argument, without echoing it', async () => {
    const r = await cli.run(['login', project.skLive], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not take the credential as an argument');
    expect(r.stderr + r.stdout).not.toContain(project.skLive);
    const j = await cli.run(['login', '--token', project.skLive, '--json'], { input: '' });
    expect(j.code).toBe(2);
    expect(j.json).toMatchObject({ status: 'error', code: 'secret_in_argv', exitCode: 2 });
    expect(j.stdout + j.stderr).not.toContain(project.skLive);
  });

  it('does not save a credential the server rejects (exit 3)', async () => {
    const r = await cli.run(['login', '--profile', 'bad', '--url', server.url, '--json'], { input: 'not-the-admin-token-xxxxxxxxxxxx' });
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ status: 'error', code: 'unauthorized', exitCode: 3 });
    expect(r.json.message).toContain('byo login');
    expect(JSON.parse(readFileSync(profilesPath(), 'utf8')).profiles.bad).toBeUndefined();
  });

  it('refuses a publishable key and an empty stdin (exit 2)', async () => {
    const pk = await cli.run(['login', '--profile', 'pk', '--url', server.url], { input: project.pkTest });
    expect(pk.code).toBe(2);
    expect(pk.stderr).toContain('publishable key');
    const empty = await cli.run(['login', '--profile', 'pk', '--url', server.url], { input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('stdin was empty');
  });

  it('reports an unreachable server with exit 7 and what to check', async () => {
    const r = await cli.run(['login', '--profile', 'down', '--url', 'http://127.0.0.1:9', '--json'], { input: server.adminToken });
    expect(r.code).toBe(7);
    expect(r.json).toMatchObject({ status: 'error', code: 'server_unreachable', exitCode: 7 });
    expect(r.json.message).toContain('http://127.0.0.1:9');
    expect(r.json.message).toContain('byo server start');
  });
});

describe('byo whoami', () => {
  it('shows the server and both credentials, checked (human)', async () => {
    const r = await cli.run(['whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`server:\\s+${server.url} \\(from profile\\)`));
    expect(r.stdout).toMatch(/admin token:\s+\.\.\.\w{4} \(from profile\) valid, 1 project\(s\)/);
    expect(r.stdout).toMatch(/secret key:\s+byo_sk_test_\.\.\.\w{4} \(from profile\) valid, test mode/);
    expect(r.stdout).not.toContain(server.adminToken);
    expect(r.stdout).not.toContain(project.skTest);
  });

  it('BYO_URL, BYO_ADMIN_TOKEN and BYO_SECRET_KEY override the profile', async () => {
    const r = await cli.run(['whoami', '--json'], { env: { BYO_SECRET_KEY: project.skLive } });
    expect(r.code).toBe(0);
    expect(r.json.result).toMatchObject({
      profile: 'default',
      url: server.url,
      urlSource: 'profile',
      admin: { source: 'profile', valid: true, projects: 1 },
      secretKey: { source: 'env', valid: true, mode: 'live', hint: `${project.skLive.slice(0, 12)}...${project.skLive.slice(-4)}` },
    });
    const other = await cli.run(['whoami', '--json'], { env: { BYO_URL: 'http://127.0.0.1:9' } });
    expect(other.code).toBe(7);
    expect(other.json.code).toBe('server_unreachable');
  });

  it('exits 3 when a configured credential is rejected, with the result in the envelope', async () => {
    const r = await cli.run(['whoami', '--json'], { env: { BYO_ADMIN_TOKEN: 'wrong-token-wrong-token-wrong' } });
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({
      status: 'error',
      code: 'credential_rejected',
      exitCode: 3,
      result: { admin: { source: 'env', valid: false }, secretKey: { valid: true } },
    });
  });

  it('exits 3 with "run byo login" when nothing is configured', async () => {
    const r = await cli.run(['whoami', '--profile', 'nobody']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Not logged in (profile "nobody"). Run `byo login`');
    const j = await cli.run(['whoami', '--profile', 'nobody', '--json']);
    expect(j.json).toEqual({
      status: 'error',
      code: 'not_logged_in',
      message: expect.stringContaining('byo login'),
      exitCode: 3,
    });
  });

  it('BYO_PROFILE selects the profile', async () => {
    const r = await cli.run(['whoami', '--json'], { env: { BYO_PROFILE: 'nobody' } });
    expect(r.code).toBe(3);
  });
});

describe('byo logout', () => {
  it('removes the profile; a second logout is a no-op', async () => {
    const copy = await cli.run(['login', '--profile', 'temp', '--url', server.url], { input: server.adminToken });
    expect(copy.code).toBe(0);
    const r = await cli.run(['logout', '--profile', 'temp', '--json']);
    expect(r.json).toEqual({ status: 'success', result: { profile: 'temp', removed: true }, warnings: [] });
    const again = await cli.run(['logout', '--profile', 'temp']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('No profile "temp"; nothing to do.');
    const who = await cli.run(['whoami', '--profile', 'temp']);
    expect(who.code).toBe(3);
  });

  it('warns that environment credentials still apply', async () => {
    const r = await cli.run(['logout', '--profile', 'temp', '--json'], { env: { BYO_ADMIN_TOKEN: server.adminToken } });
    expect(r.json.warnings).toEqual(['BYO_ADMIN_TOKEN is still set in the environment and will be used.']);
  });
});

describe('usage errors', () => {
  it('an unknown flag exits 2 with a pointer to --help, in both output modes', async () => {
    const r = await cli.run(['projects', 'list', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Nonexistent flag: --bogus');
    expect(r.stderr).toContain('byo projects list --help');
    const j = await cli.run(['projects', 'list', '--bogus', '--json']);
    expect(j.code).toBe(2);
    expect(j.json).toMatchObject({ status: 'error', code: 'invalid_usage', exitCode: 2 });
  });

  it('a missing argument exits 2', async () => {
    const r = await cli.run(['keys', 'get', 'openai', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.message).toContain('Missing 1 required arg');
  });
});
