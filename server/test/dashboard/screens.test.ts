/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, launchChromium, seriousViolations, watch } from '../helpers/browser.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';
import { Receiver } from '../webhooks/receiver.js';

/**
 * Every dashboard screen against a started server with real data (keys connected through the
 * API, calls through the proxy's test sandbox, webhook endpoints on local receivers): what each
 * screen shows, revoke and redeliver from the UI as seen over REST and by the receiver, axe-core
 * on each screen, and screenshots of each in both themes for docs/dashboard.md.
 */
const IMAGES = fileURLToPath(new URL('../../../docs/images/', import.meta.url));

let server: TestServer;
let browser: Browser;
let project: TestProject;
let page: Page;
let errors: string[];
const ok = new Receiver();
const failing = new Receiver();

const CUSTOMERS = ['acme_corp', 'globex', 'initech', 'umbrella'];

async function seed(): Promise<void> {
  await Promise.all([ok.start(), failing.start()]);
  failing.respond = () => ({ status: 500, body: 'down' });
  for (const url of [`${ok.url}/hooks`, `${failing.url}/hooks`]) {
    const r = await server.request('POST', '/v1/webhooks/endpoints', { key: project.skTest, body: { url, description: 'Receiver' } });
    expect(r.status, r.text).toBe(200);
  }
  for (const refId of CUSTOMERS) {
    for (const provider of refId === 'acme_corp' ? ['openai', 'anthropic'] : ['openai']) {
      const r = await server.request('POST', '/v1/keys/connect', {
        key: project.skTest,
        // globex's owner capped its key when connecting it.
        body: {
          provider,
          refId,
          providerKey: 'sk-byo-test-valid',
          ...(refId === 'globex' ? { limits: [{ metric: 'cost_usd', window: 'month', max: 50 }] } : {}),
        },
      });
      expect(r.status, r.text).toBe(200);
    }
  }
  // initech's own limit, in force before its call (one of 4 requests this month).
  const limit = await server.request('PUT', '/v1/customers/initech/limits', {
    key: project.skTest,
    body: { limits: [{ metric: 'requests', window: 'month', max: 4 }] },
  });
  expect(limit.status, limit.text).toBe(200);
  for (let i = 0; i < 6; i++) {
    const refId = CUSTOMERS[i % CUSTOMERS.length] as string;
    const res = await fetch(`${server.url}/v1/proxy/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.skTest}`, 'x-byo-ref-id': refId, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
  }
  // The failing endpoint's deliveries run out of retries (schedule 0, 100, 200, 400 ms).
  await waitFor(async () => {
    const r = await server.request('GET', '/v1/webhooks/deliveries?status=failed', { key: project.skTest });
    return r.body.data.length > 0;
  });
}

async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  buildDashboard();
  mkdirSync(IMAGES, { recursive: true });
  [server, browser] = await Promise.all([
    startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1', BYO_ALLOW_HTTP_UPSTREAMS: 'true' }),
    launchChromium(),
  ]);
  project = await server.createProject({ name: 'Acme SaaS' });
  await seed();
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  ({ errors } = watch(page));
  await page.goto('/dashboard');
  await page.getByLabel('Secret key or admin token').fill(server.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.getByLabel('Project').selectOption(project.id);
  await page.getByLabel('Mode').selectOption('test');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await Promise.all([ok.stop(), failing.stop()]);
});

async function go(link: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  await page.getByText('Loading…').waitFor({ state: 'detached' });
}

/** axe in both themes, and a screenshot of each into docs/images/. */
async function checkAndShoot(name: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    const dark = (await page.getByRole('button', { name: 'Dark theme' }).getAttribute('aria-pressed')) === 'true';
    if (dark !== (theme === 'dark')) {
      await page.getByRole('button', { name: 'Dark theme' }).click();
      await page.getByText('Loading…').waitFor({ state: 'detached' });
    }
    await page.waitForTimeout(150);
    expect(await seriousViolations(page), `${name} (${theme})`).toEqual([]);
    await page.screenshot({ path: `${IMAGES}dashboard-${name}-${theme}.png`, fullPage: true });
  }
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await page.getByText('Loading…').waitFor({ state: 'detached' });
}

describe('dashboard screens, with data from a started server', () => {
  it('sign-in screen: axe and screenshots', async () => {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 700 } });
    const p = await context.newPage();
    for (const theme of ['light', 'dark'] as const) {
      await p.emulateMedia({ colorScheme: theme });
      await p.goto('/dashboard');
      await p.getByLabel('Secret key or admin token').waitFor();
      expect(await seriousViolations(p), `sign-in (${theme})`).toEqual([]);
      await p.screenshot({ path: `${IMAGES}dashboard-sign-in-${theme}.png` });
    }
    await context.close();
  });

  it('Overview: keys, customers, requests per day as a chart, failing endpoint', async () => {
    await go('Overview', 'Overview');
    const card = (title: string) => page.locator('.cards > div', { has: page.getByText(title, { exact: true }) });
    await expect(card('Keys connected').locator('dd').first().textContent()).resolves.toBe('5');
    await expect(card('Customers').locator('dd').first().textContent()).resolves.toBe('4');
    await expect(card('Requests (30 days)').locator('dd').first().textContent()).resolves.toBe('6');
    // uPlot drew into the chart (a canvas), loaded as its own chunk.
    await page.locator('#chart-requests canvas').waitFor();
    await page.getByRole('cell', { name: `${failing.url}/hooks` }).waitFor();
    await checkAndShoot('overview');
  });

  it('Customers: the table, a customer page, and revoke with confirmation (REST sees it; key.revoked is delivered)', async () => {
    await go('Customers', 'Customers');
    for (const refId of CUSTOMERS) await page.getByRole('link', { name: refId }).first().waitFor();
    // One row per customer, with its keys and this month's usage (the customers read model).
    const acme = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'acme_corp' }) });
    await acme.getByText('anthropic: active').waitFor();
    await expect(acme.getByRole('cell').nth(3).textContent()).resolves.toBe('2');
    // Limit use: the limit nearest its max, in words (the meter beside it is for the eye only).
    const row = (refId: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name: refId }) });
    await row('initech').getByRole('cell', { name: '25% of 4 requests/month', exact: true }).waitFor();
    await row('acme_corp').getByRole('cell', { name: 'No limit', exact: true }).waitFor();
    await expect(page.getByRole('columnheader', { name: 'Limit use' }).count()).resolves.toBe(1);
    await checkAndShoot('customers');
    await page.getByLabel('refId starts with').fill('glo');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'acme_corp' }).count()).toBe(0);

    await page.getByRole('link', { name: 'globex' }).click();
    await page.getByRole('heading', { name: 'globex', level: 1 }).waitFor();
    await page.getByText('Loading…').waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'gpt-4o-mini' }).waitFor();
    await page.getByRole('cell', { name: '$50.00 per month', exact: true }).waitFor();
    await expect(page.getByRole('columnheader', { name: "Owner's cap" }).count()).resolves.toBe(1);
    await page.locator('#chart-usage canvas').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Revoke the openai key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke the openai key of globex?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(server.request('GET', '/v1/keys/openai/globex', { key: project.skTest }).then((r) => r.body.status)).resolves.toBe(
      'active',
    );
    await page.getByRole('button', { name: 'Revoke the openai key' }).click();
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('status').filter({ hasText: 'is revoked' }).waitFor();
    const rest = await server.request('GET', '/v1/keys/openai/globex', { key: project.skTest });
    expect(rest.body.status).toBe('revoked');
    await waitFor(async () => ok.received.some((r) => r.body.type === 'key.revoked' && r.body.data.refId === 'globex'));
  });

  it("Limits: the project default on the Customers screen, a customer's own on its page (REST sees both), remove", async () => {
    await go('Customers', 'Customers');
    const defaults = page.getByRole('form', { name: 'Add a limit' });
    await defaults.getByLabel('Metric').selectOption('tokens');
    await defaults.getByLabel('Window').selectOption('month');
    await defaults.getByLabel('Maximum').fill('1000000');
    await defaults.getByRole('button', { name: 'Add limit' }).click();
    await page.getByRole('status').filter({ hasText: 'Limit saved' }).waitFor();
    const def = await server.request('GET', '/v1/limits/default', { key: project.skTest });
    expect(def.body).toMatchObject({ source: 'default', limits: [{ metric: 'tokens', window: 'month', max: 1000000 }] });

    await page.getByRole('link', { name: 'acme_corp' }).first().click();
    await page.getByRole('heading', { name: 'acme_corp', level: 1 }).waitFor();
    await page.getByText("In force: the project's default.").waitFor();
    const form = page.getByRole('form', { name: 'Add a limit' });
    await form.getByLabel('Metric').selectOption('requests');
    await form.getByLabel('Window').selectOption('day');
    await form.getByLabel('Maximum').fill('100');
    await form.getByRole('button', { name: 'Add limit' }).click();
    await page.getByRole('status').filter({ hasText: 'Limit saved' }).waitFor();
    const rest = await server.request('GET', '/v1/customers/acme_corp/limits', { key: project.skTest });
    expect(rest.status, rest.text).toBe(200);
    expect(rest.body).toMatchObject({ source: 'customer', limits: [{ metric: 'requests', window: 'day', max: 100 }] });
    await page.getByText('of 100').waitFor();
    await page.locator('#chart-usage canvas').waitFor();
    await checkAndShoot('customer');

    await page.getByRole('button', { name: 'Remove the requests per day limit' }).click();
    await page.getByRole('status').filter({ hasText: 'Limit removed' }).waitFor();
    expect((await server.request('GET', '/v1/customers/acme_corp/limits', { key: project.skTest })).body.source).not.toBe('customer');
  });

  it('Webhooks: endpoints and the delivery log; redeliver sends the event again', async () => {
    await go('Webhooks', 'Webhooks');
    await page.getByRole('cell', { name: `${ok.url}/hooks Receiver` }).waitFor();
    await page.locator('td .pill.failed').first().waitFor();
    await checkAndShoot('webhooks');

    const connected = ok.received.filter((r) => r.body.type === 'key.connected').length;
    const row = page.getByRole('row').filter({ hasText: 'key.connected' }).filter({ hasText: 'succeeded' }).first();
    await row.getByRole('button', { name: /^Redeliver/ }).click();
    await page.getByRole('status').filter({ hasText: 'Redelivery queued' }).waitFor();
    await waitFor(async () => ok.received.filter((r) => r.body.type === 'key.connected').length > connected);
  });

  it('API keys, Audit log and Master keys (admin)', async () => {
    await go('API keys', 'API keys');
    await page
      .getByRole('cell', { name: project.skTest.slice(-4), exact: false })
      .first()
      .waitFor();
    await checkAndShoot('api-keys');

    await go('Audit log', 'Audit log');
    // The revoke made from the customer page, by the admin's session.
    await page.getByRole('row').filter({ hasText: 'key.revoked' }).filter({ hasText: 'admin' }).first().waitFor();
    await checkAndShoot('audit');
    await page.getByLabel('Action').fill('webhook_delivery.redelivered');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'webhook_delivery.redelivered' }).first().waitFor();
    await expect.poll(() => page.getByRole('cell', { name: 'key.revoked' }).count()).toBe(0);

    await go('Master keys', 'Master keys');
    await page.getByRole('cell', { name: 'k1' }).first().waitFor();
    await checkAndShoot('master-keys');
    expect(errors).toEqual([]);
  });
});
