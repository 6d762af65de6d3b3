/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, launchChromium, watch } from '../helpers/browser.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * Signing in to /dashboard in real Chromium: the key is exchanged once for an HttpOnly,
 * SameSite=Strict session cookie and is then nowhere a script can read; state-changing calls
 * need the CSRF token; sign-out ends the session on the server.
 */
let server: TestServer;
let browser: Browser;
let project: TestProject;

beforeAll(async () => {
  buildDashboard();
  [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
  project = await server.createProject({ name: 'Session test' });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  const { errors } = watch(page);
  await page.goto('/dashboard');
  return { context, page, errors };
}

async function signIn(page: Page, secret: string): Promise<void> {
  await page.getByLabel('Secret key or admin token').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('dashboard sign-in', () => {
  it('serves the page under a strict CSP with the usual security headers, and any /dashboard path is the page', async () => {
    for (const path of ['/dashboard', '/dashboard/webhooks', '/dashboard/customers/cust_1']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      // No inline script: every <script> has a src on this origin.
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/dashboard\/assets\/)/);
    }
    expect((await fetch(`${server.url}/dashboard/assets/nope.js`)).status).toBe(404);
  });

  it('a wrong key gets a clear message, and a publishable key is told to use a secret key', async () => {
    const { context, page, errors } = await open();
    await signIn(page, 'byo_sk_test_notarealkey');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not a valid secret key or admin token');
    await signIn(page, project.pkTest);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('publishable key');
    await signIn(page, 'not-even-a-key');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not a valid secret key or admin token');
    expect(errors.filter((e) => !e.includes('status of 401') && !e.includes('status of 403'))).toEqual([]);
    await context.close();
  });

  it('signs in with a secret key, keeps the key in no storage a script can read, and signs out', async () => {
    const { context, page, errors } = await open();
    await signIn(page, project.skTest);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await expect(page.getByText('Session test · test').isVisible()).resolves.toBe(true);

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'byo_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    const readable = await page.evaluate(async () => {
      const dbs = (await indexedDB.databases?.()) ?? [];
      return {
        local: JSON.stringify({ ...localStorage }),
        sessionStore: JSON.stringify({ ...sessionStorage }),
        cookie: document.cookie,
        url: location.href,
        html: document.documentElement.outerHTML,
        inputs: [...document.querySelectorAll('input')].map((i) => i.value).join(' '),
        dbs: dbs.map((d) => d.name).join(','),
      };
    });
    for (const [where, value] of Object.entries(readable)) expect(value, where).not.toContain(project.skTest);
    expect(readable.cookie).not.toContain(session?.value);
    expect(readable.cookie).toBe('');

    // A reload keeps the session (cookie), and each screen is a URL.
    await page.goto('/dashboard/webhooks');
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Secret key or admin token').waitFor();
    // The old cookie is dead on the server, not only forgotten by the browser.
    const cookie = { cookie: `byo_session=${session?.value}` };
    const after = await fetch(`${server.url}/trpc/dashboard.overview`, { headers: cookie });
    expect(after.status).toBe(401);
    expect((await after.json()).error.data.code).toBe('session_expired');
    const none = await fetch(`${server.url}/trpc/dashboard.session`, { headers: cookie });
    expect((await none.json()).result.data).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('refuses a state-changing call without the CSRF token, and REST ignores the cookie', async () => {
    const { context, page } = await open();
    await signIn(page, project.skTest);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const results = await page.evaluate(async () => {
      const body = JSON.stringify({ provider: 'openai', refId: 'nobody' });
      const post = (headers: Record<string, string>) =>
        fetch('/trpc/keys.revoke', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(
          async (r) => ({
            status: r.status,
            code: (await r.json()).error?.data?.code,
          }),
        );
      const session = await fetch('/trpc/dashboard.session').then((r) => r.json());
      const csrf = session.result.data.csrfToken as string;
      return {
        none: await post({}),
        wrong: await post({ 'x-byo-csrf': 'x'.repeat(43) }),
        right: await post({ 'x-byo-csrf': csrf }),
        signOutWithout: await fetch('/trpc/dashboard.signOut', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }).then((r) => r.status),
        rest: await fetch('/v1/keys').then((r) => r.status),
      };
    });
    expect(results.none).toEqual({ status: 403, code: 'csrf_failed' });
    expect(results.wrong).toEqual({ status: 403, code: 'csrf_failed' });
    // With the token the call goes through to the procedure (which finds no such key).
    expect(results.right).toEqual({ status: 404, code: 'key_not_found' });
    expect(results.signOutWithout).toBe(403);
    expect(results.rest).toBe(401);
    await context.close();
  });

  it('the admin token sees every project through a switcher', async () => {
    const other = await server.createProject({ name: 'Second project' });
    const { context, page } = await open();
    await signIn(page, server.adminToken);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const select = page.getByLabel('Project');
    await expect(select.locator('option').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('Session test'), expect.stringContaining('Second project')]),
    );
    await select.selectOption(other.id);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page
      .getByText(other.keys[0]?.key.slice(-4) ?? '')
      .first()
      .waitFor();
    await context.close();
  });
});
