import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProviderId } from '../../server/src/providers/registry.js';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { launchChromium } from './helpers/browser.js';
import { attrs, axeViolations, embed, events, type FormHost, formHost, waitForEvent } from './helpers/form-host.js';
import { PACKAGE_ROOT, StaticServer } from './helpers/static-server.js';

/**
 * `<byo-connect-form>` from the built package, in Chromium. The host page is served from
 * http://localhost:<port>, the BYO server from http://127.0.0.1:<port>: the key form runs in
 * a cross-origin iframe that the host page's script cannot read.
 */

const IMAGES = join(PACKAGE_ROOT, '..', 'docs', 'images');
let byo: TestServer;
let site: StaticServer;
let browser: Browser;
let project: TestProject;
let pages: FormHost;
const host: FormHost['host'] = (...args) => pages.host(...args);

beforeAll(async () => {
  [byo, site, browser] = await Promise.all([startTestServer(), new StaticServer().start(), launchChromium()]);
  project = await byo.createProject({ validateOnConnect: true });
  pages = await formHost(browser, site, byo);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await byo?.close();
});

describe('<byo-connect-form>', () => {
  it('stores a key typed into the cross-origin frame; the host receives byo:connected and cannot read the key', async () => {
    const typed = 'sk-byo-test-valid';
    const { page, seen } = await host([{ id: 'f1', 'publishable-key': project.pkTest, 'ref-id': 'cust_form' }]);
    const frame = await embed(page);
    expect(new URL(frame.url()).origin).toBe(byo.url);
    await frame.getByLabel('API key').fill(typed);

    // The host page's script: the frame's document is out of reach, and the key is nowhere in the host's DOM.
    const probe = await page.evaluate((key) => {
      const iframe = document.querySelector('byo-connect-form')?.shadowRoot?.querySelector('iframe') as HTMLIFrameElement;
      let documentAccess = 'readable';
      try {
        void (iframe.contentWindow as Window).document.body;
      } catch (e) {
        documentAccess = (e as Error).name;
      }
      let inputAccess = 'readable';
      try {
        void (iframe.contentWindow as any).document.getElementById('byo-key').value;
      } catch (e) {
        inputAccess = (e as Error).name;
      }
      const shadow = document.querySelector('byo-connect-form')?.shadowRoot?.innerHTML ?? '';
      return {
        contentDocument: iframe.contentDocument,
        documentAccess,
        inputAccess,
        inHostDom: document.documentElement.outerHTML.includes(key) || shadow.includes(key) || iframe.src.includes(key),
      };
    }, typed);
    expect(probe).toEqual({ contentDocument: null, documentAccess: 'SecurityError', inputAccess: 'SecurityError', inHostDom: false });

    await frame.getByRole('button', { name: 'Connect key' }).click();
    const [connected] = await waitForEvent(page, 'byo:connected');
    expect(connected).toEqual({
      type: 'byo:connected',
      target: 'f1',
      bubbles: true,
      composed: true,
      detail: { id: expect.stringMatching(/^key_/), provider: 'openai', refId: 'cust_form', status: 'active', updated: false },
    });
    expect(await frame.getByRole('status').textContent()).toContain('Connected. Your OpenAI key sk-...alid is stored');
    expect(await frame.getByLabel('API key').inputValue()).toBe('');

    const stored = await byo.request('GET', '/v1/keys/openai/cust_form', { key: project.skTest });
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body).toMatchObject({ id: connected.detail.id, status: 'active', keyHint: 'sk-...alid' });
    // The key travelled only in the request body: in no URL, no message.
    expect(seen.requests.some((r) => r.includes(typed))).toBe(false);
    expect(JSON.stringify(await events(page))).not.toContain(typed);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('serves the frame with a CSP whose frame-ancestors is the host origin (test mode, no allowed origins)', async () => {
    const page = await browser.newPage();
    const responses: { url: string; csp: string | null }[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/connect/embed?')) responses.push({ url: r.url(), csp: r.headers()['content-security-policy'] ?? null });
    });
    const path = pages.nextPath();
    site.page(
      path,
      `<!doctype html><byo-connect-form base-url="${byo.url}" publishable-key="${project.pkTest}" ref-id="c_csp"></byo-connect-form><script type="module" src="/host.js"></script>`,
    );
    await page.goto(`${site.urlLocalhost}${path}`);
    await embed(page);
    expect(responses).toHaveLength(1);
    expect(responses[0]?.csp).toContain(`frame-ancestors ${site.urlLocalhost};`);
    expect(responses[0]?.csp).toContain("script-src 'self';");
    expect(new URL(responses[0]?.url as string).searchParams.get('parentOrigin')).toBe(site.urlLocalhost);
    await page.close();
  });

  it('shows readable errors in the frame and reports byo:error to the host', async () => {
    const { page } = await host([
      { id: 'f2', 'publishable-key': project.pkTest, 'ref-id': 'cust_form_err', providers: 'openai,anthropic' },
    ]);
    const frame = await embed(page);
    expect(await frame.getByRole('radio').count()).toBe(2);
    await frame.getByRole('button', { name: 'Connect key' }).click();
    expect(await frame.getByRole('alert').textContent()).toBe('Enter your API key.');

    await frame.getByRole('radio', { name: 'Anthropic' }).check();
    expect(await frame.getByLabel('API key').getAttribute('placeholder')).toBe('sk-ant-...');
    expect(await frame.getByText('Advanced').count()).toBe(0);
    await frame.getByLabel('API key').fill('sk-byo-test-invalid');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    const [error] = await waitForEvent(page, 'byo:error');
    expect(error).toMatchObject({
      target: 'f2',
      bubbles: true,
      composed: true,
      detail: { statusCode: 422, code: 'key_invalid', message: expect.stringContaining('The provider rejected this key') },
    });
    expect(await frame.getByRole('alert').textContent()).toContain('The provider rejected this key');

    // OpenAI with a base URL that is not one.
    await frame.getByRole('radio', { name: 'OpenAI' }).check();
    await frame.getByText('Advanced').click();
    await frame.getByLabel('Base URL').fill('not a url');
    await frame.getByLabel('API key').fill('sk-byo-test-valid');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    const [, invalidBase] = await waitForEvent(page, 'byo:error', 2);
    expect(invalidBase?.detail).toMatchObject({ statusCode: 400 });
    expect(await frame.getByRole('alert').textContent()).toContain('baseUrl');
    expect((await byo.request('GET', '/v1/keys/anthropic/cust_form_err', { key: project.skTest })).status).toBe(404);
    await page.close();
  });

  it('replaces a key with a connect token, and ignores messages that do not come from its own frame', async () => {
    const token = await byo.request('POST', '/v1/connect-tokens', { key: project.skTest, body: { refId: 'cust_form' } });
    expect(token.status, token.text).toBe(200);
    const { page, seen } = await host([
      { id: 'other', 'publishable-key': project.pkTest, 'ref-id': 'cust_other', provider: 'google' },
      { id: 'f3', 'publishable-key': project.pkTest, 'ref-id': 'cust_form', provider: 'openai', 'connect-token': token.body.token },
    ]);
    // A forged message from the host page itself is not re-dispatched.
    await page.evaluate(() =>
      window.postMessage({ type: 'byo:connected', id: 'key_forged', provider: 'openai', refId: 'x', status: 'active' }, '*'),
    );
    const frame = await embed(page, 1);
    expect(await frame.getByRole('radio').count()).toBe(0); // locked to one provider: no choice shown
    expect(await frame.getByRole('heading').textContent()).toBe('Connect your OpenAI key');
    expect(frame.url()).not.toContain('#'); // the token is dropped from the frame's URL once read
    await frame.getByLabel('API key').fill('sk-byo-test-valid');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    const [connected] = await waitForEvent(page, 'byo:connected');
    expect(connected).toMatchObject({ target: 'f3', detail: { refId: 'cust_form', updated: true } });
    // Only the frame that connected spoke: the other form (same BYO origin) dispatched nothing.
    expect((await events(page)).map((e) => e.target)).toEqual(['f3']);
    expect(seen.requests.some((r) => r.includes(token.body.token))).toBe(false);
    await page.close();
  });

  it("for a live project: frames and stores on an allowed origin; another origin's page is refused by frame-ancestors", async () => {
    const live = await byo.createProject({ allowedOrigins: [site.urlLocalhost], validateOnConnect: false });
    const allowed = await host([{ id: 'live', 'publishable-key': live.pkLive, 'ref-id': 'cust_live' }]);
    const frame = await embed(allowed.page);
    expect(await frame.getByText('Test mode').count()).toBe(0);
    await frame.getByLabel('API key').fill('sk-live-looking-key-0002');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    const [connected] = await waitForEvent(allowed.page, 'byo:connected');
    expect(connected.detail).toMatchObject({ refId: 'cust_live', status: 'active' });
    expect((await byo.request('GET', '/v1/keys/openai/cust_live', { key: live.skLive })).body.status).toBe('active');
    await allowed.page.close();

    // Same page, other origin (127.0.0.1 is not on the list).
    const refused = await host([{ id: 'live2', 'publishable-key': live.pkLive, 'ref-id': 'cust_live2' }], site.url127);
    const [error] = await waitForEvent(refused.page, 'byo:error');
    expect(error).toMatchObject({ target: 'live2', detail: { statusCode: 0, code: 'form_unavailable' } });
    expect(error.detail.message).toContain(`this page's origin (${site.url127}) is in the project's allowed origins`);
    expect(await refused.page.locator('byo-connect-form').getByRole('alert').textContent()).toContain('could not be loaded');
    expect(refused.seen.console.join('\n')).toMatch(/frame-ancestors/);
    await refused.page.close();
  });

  it('refuses a secret key without sending it anywhere', async () => {
    const { page, seen } = await host([{ id: 'bad', 'publishable-key': project.skTest, 'ref-id': 'cust_sk' }]);
    const [error] = await waitForEvent(page, 'byo:error');
    expect(error).toMatchObject({ target: 'bad', detail: { statusCode: 0, code: 'form_unavailable' } });
    expect(error.detail.message).toContain('must never be used in a browser');
    expect(await page.locator('byo-connect-form').getByRole('alert').textContent()).toContain('secret key');
    expect(seen.requests.filter((r) => r.includes(byo.url))).toEqual([]);
    await page.close();
  });

  it('lists every catalog provider; choosing one shows exactly its catalog fields, and a groq key is stored', async () => {
    const catalog = (await byo.request('GET', '/v1/providers', { key: project.pkTest })).body.data as CatalogEntry[];
    expect(catalog.length).toBeGreaterThanOrEqual(12);
    const { page, seen } = await host([{ id: 'all', 'publishable-key': project.pkTest, 'ref-id': 'cust_groq' }]);
    const frame = await embed(page);
    const picker = frame.getByLabel('Provider');
    expect(await picker.locator('option').allTextContents()).toEqual(catalog.map((p) => p.name));

    await picker.selectOption('groq');
    const inputs = frame.locator('#byo-fields input');
    expect(await inputs.count()).toBe(1);
    expect(await inputs.getAttribute('type')).toBe('password');
    expect(await frame.getByLabel('API key').getAttribute('placeholder')).toBe('gsk_...');
    const help = frame.getByRole('link', { name: 'Where do I find this?' });
    expect(await help.getAttribute('href')).toBe('https://console.groq.com/keys');
    expect(await help.getAttribute('target')).toBe('_blank');
    expect(await help.getAttribute('rel')).toBe('noopener noreferrer');
    // The link opens (the frame's sandbox lets it), in a window that cannot reach back to the form.
    await page
      .context()
      .route('https://console.groq.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<title>keys</title>' }));
    const [popup] = await Promise.all([page.waitForEvent('popup'), help.click()]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe('https://console.groq.com/keys');
    expect(await popup.evaluate(() => window.opener)).toBeNull();
    await popup.close();

    // Every provider's fields, from its catalog entry.
    for (const entry of catalog) {
      await picker.selectOption(entry.id);
      const rendered = await frame.locator('#byo-fields input').evaluateAll((els) =>
        (els as HTMLInputElement[]).map((e) => ({
          field: e.dataset.field,
          type: e.type,
          placeholder: e.placeholder,
          required: e.required,
          name: e.name,
        })),
      );
      expect(rendered, entry.id).toEqual(
        entry.credentials.map((c) => ({
          field: c.field,
          type: c.secret ? 'password' : 'text',
          placeholder: c.placeholder,
          required: c.required,
          name: '',
        })),
      );
    }

    await picker.selectOption('groq');
    await frame.getByLabel('API key').fill('sk-byo-test-valid');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    const [connected] = await waitForEvent(page, 'byo:connected');
    expect(connected.detail).toMatchObject({ provider: 'groq', refId: 'cust_groq', status: 'active' });
    expect(await frame.getByRole('status').textContent()).toContain('Connected. Your Groq key sk-...alid is stored');
    const stored = await byo.request('GET', '/v1/keys/groq/cust_groq', { key: project.skTest });
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body).toMatchObject({ id: connected.detail.id, status: 'active', keyHint: 'sk-...alid' });
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('providers="openai,groq" offers only those two, and switching swaps the fields without a reload', async () => {
    const { page, seen } = await host([{ id: 'two', 'publishable-key': project.pkTest, 'ref-id': 'cust_two', providers: 'openai,groq' }]);
    const frame = await embed(page);
    expect(await frame.getByRole('radio').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value))).toEqual(['openai', 'groq']);
    const loads = seen.requests.filter((r) => r.includes('/connect/embed?')).length;
    // OpenAI's optional Base URL (a providerConfig field) is rendered, collapsed under Advanced.
    expect(await frame.getByLabel('API key').getAttribute('placeholder')).toBe('sk-...');
    expect(await frame.getByLabel('Base URL').isVisible()).toBe(false);
    await frame.getByText('Advanced').click();
    expect(await frame.getByLabel('Base URL').isVisible()).toBe(true);
    expect(await frame.getByLabel('Base URL').getAttribute('data-field')).toBe('providerConfig.baseUrl');
    await frame.getByLabel('API key').fill('typed-for-openai');
    await frame.getByRole('radio', { name: 'Groq' }).check();
    expect(await frame.getByLabel('API key').getAttribute('placeholder')).toBe('gsk_...');
    expect(await frame.getByLabel('API key').inputValue()).toBe(''); // a key typed for one provider is not carried over
    expect(await frame.getByLabel('Base URL').count()).toBe(0);
    expect(seen.requests.filter((r) => r.includes('/connect/embed?')).length).toBe(loads);
    await page.close();
  });

  it.runIf(isProviderId('azure'))(
    'azure: renders the required endpoint with the key, and sends it as providerConfig.endpoint',
    async () => {
      const { page } = await host([{ id: 'az', 'publishable-key': project.pkTest, 'ref-id': 'cust_azure', provider: 'azure' }]);
      const frame = await embed(page);
      const endpoint = frame.locator('#byo-fields input[data-field="providerConfig.endpoint"]');
      expect(await endpoint.isVisible()).toBe(true);
      expect(await endpoint.getAttribute('type')).toBe('text');
      expect(await endpoint.evaluate((e) => (e as HTMLInputElement).required)).toBe(true);
      await frame.getByLabel('API key').fill('sk-byo-test-valid');
      await frame.getByRole('button', { name: 'Connect key' }).click();
      expect(await frame.getByRole('alert').textContent()).toMatch(/^Enter your /);
      await endpoint.fill('https://byo-test.openai.azure.com');
      await frame.getByRole('button', { name: 'Connect key' }).click();
      const [connected] = await waitForEvent(page, 'byo:connected');
      expect(connected.detail).toMatchObject({ provider: 'azure', refId: 'cust_azure' });
      expect((await byo.request('GET', '/v1/keys/azure/cust_azure', { key: project.skTest })).status).toBe(200);
      await page.close();
    },
  );

  it('has no accessibility violations (axe-core), with the provider select, with radios, in both themes', async () => {
    const context = await browser.newContext();
    for (const [theme, form] of [
      ['light', {}],
      ['dark', {}],
      ['light', { providers: 'openai,groq' }],
    ] as const) {
      const path = pages.nextPath();
      site.page(
        path,
        `<!doctype html><html lang="en"><head><title>host</title></head><body><byo-connect-form ${attrs({ 'base-url': byo.url, 'publishable-key': project.pkTest, 'ref-id': 'cust_axe', theme, ...form })}></byo-connect-form><script type="module" src="/host.js"></script></body></html>`,
      );
      const page = await context.newPage();
      await page.goto(`${site.urlLocalhost}${path}`);
      const frame = await embed(page);
      if ('providers' in form)
        await frame.getByText('Advanced').click(); // the optional field too
      else await frame.getByLabel('Provider').selectOption('groq'); // a help link
      const violations = await axeViolations(frame);
      expect(violations, `${theme} ${JSON.stringify(form)}`).toEqual([]);
      await page.close();
    }
    await context.close();
  });

  it('looks right in both themes (screenshots for the docs)', async () => {
    mkdirSync(IMAGES, { recursive: true });
    for (const theme of ['light', 'dark']) {
      const { page } = await host(
        [{ id: theme, theme, 'publishable-key': project.pkTest, 'ref-id': `cust_shot_${theme}` }],
        site.urlLocalhost,
        2,
      );
      if (theme === 'dark') await page.evaluate(() => document.querySelector('.slot')?.classList.add('dark'));
      const frame = await embed(page);
      await frame.getByLabel('API key').fill('sk-byo-test-valid');
      // The frame sized itself to its content.
      await page.waitForFunction(() => {
        const iframe = document.querySelector('byo-connect-form')?.shadowRoot?.querySelector('iframe');
        return iframe && iframe.style.height !== '';
      });
      await page.locator('.slot').screenshot({ path: join(IMAGES, `connect-form-${theme}.png`) });
      await page.close();
    }
  });
});

interface CatalogEntry {
  id: string;
  name: string;
  credentials: { field: string; label: string; secret: boolean; required: boolean; placeholder: string; helpUrl?: string }[];
}
