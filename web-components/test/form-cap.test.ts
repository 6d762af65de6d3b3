import type { Browser, Frame } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../server/test/helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { launchChromium } from './helpers/browser.js';
import { axeViolations, embed, type FormHost, formHost, waitForEvent } from './helpers/form-host.js';
import { StaticServer } from './helpers/static-server.js';

/**
 * The form's optional "Spending cap" (the key owner's `limits`) and, after a connect, how many
 * models the key unlocks: in Chromium, against a BYO server whose scheduled checks run every 2 s
 * (so a new key is listed within a poll) and whose OpenAI is a mock that lists 42 models.
 */

const LISTED = Array.from({ length: 42 }, (_, i) => `gpt-mock-${i}`);
let mock: MockUpstream;
let byo: TestServer;
let site: StaticServer;
let browser: Browser;
let project: TestProject;
let pages: FormHost;

beforeAll(async () => {
  mock = await startMockUpstream();
  mock.intercept({ provider: 'openai', path: '/models' }, { status: 200, json: { object: 'list', data: LISTED.map((id) => ({ id })) } });
  [byo, site, browser] = await Promise.all([
    startTestServer({
      ...mock.env,
      BYO_KEY_HEALTH_INTERVAL: '2s',
      BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
      BYO_ALLOW_HTTP_UPSTREAMS: 'true',
    }),
    new StaticServer().start(),
    launchChromium(),
  ]);
  project = await byo.createProject({ validateOnConnect: true });
  pages = await formHost(browser, site, byo);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await byo?.close();
  await mock?.close();
});

const cap = (frame: Frame) => frame.getByLabel('Spending cap (optional)');
const period = (frame: Frame) => frame.getByLabel('Spending cap period');
const stored = async (refId: string) => {
  const res = await byo.request('GET', `/v1/keys/openai/${refId}`, { key: project.skTest });
  expect(res.status, res.text).toBe(200);
  return res.body;
};

describe('the Spending cap field', () => {
  it('stores the cap typed (keyboard only) as the key owner’s limits; a value of 0 or below is refused in place', async () => {
    const { page, seen } = await pages.host([
      { id: 'capped', 'publishable-key': project.pkTest, 'ref-id': 'cust_cap', provider: 'openai' },
    ]);
    const frame = await embed(page);
    expect(await cap(frame).getAttribute('type')).toBe('number');
    expect(await cap(frame).inputValue()).toBe('');
    expect(await period(frame).inputValue()).toBe('month');
    await frame.getByLabel('API key').fill('sk-byo-test-valid');

    for (const bad of ['0', '-5']) {
      await cap(frame).fill(bad);
      await frame.getByRole('button', { name: 'Connect key' }).click();
      expect(await frame.getByRole('alert').textContent()).toBe('Enter a spending cap above $0, or leave it empty for no cap.');
      expect(await cap(frame).getAttribute('aria-invalid')).toBe('true');
      expect(await cap(frame).evaluate((e) => e === document.activeElement)).toBe(true);
    }
    expect((await byo.request('GET', '/v1/keys/openai/cust_cap', { key: project.skTest })).status).toBe(404);

    // The keyboard alone: the focus is on the amount; type it, Tab to the period, choose "per day", submit with Enter.
    await cap(frame).fill('');
    await page.keyboard.type('12.5');
    await page.keyboard.press('Tab');
    expect(await period(frame).evaluate((e) => e === document.activeElement)).toBe(true);
    await page.keyboard.press('ArrowDown');
    expect(await period(frame).inputValue()).toBe('day');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    const [connected] = await waitForEvent(page, 'byo:connected');
    expect(connected.detail).toMatchObject({ provider: 'openai', refId: 'cust_cap' });
    expect(await cap(frame).getAttribute('aria-invalid')).toBeNull();
    expect((await stored('cust_cap')).limits).toEqual([{ metric: 'cost_usd', window: 'day', max: 12.5 }]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('left empty, stores no cap; spending-cap="off" shows no field; a preset is filled in and stored', async () => {
    // One form per page: three frames loading at once on one page raced their handshakes with
    // the host under load, and a connect could finish before its frame's events reached the page.
    const forms: Record<string, string>[] = [
      { id: 'empty', 'publishable-key': project.pkTest, 'ref-id': 'cust_nocap', provider: 'openai' },
      { id: 'off', 'publishable-key': project.pkTest, 'ref-id': 'cust_capoff', provider: 'openai', 'spending-cap': 'off' },
      {
        id: 'preset',
        'publishable-key': project.pkTest,
        'ref-id': 'cust_preset',
        provider: 'openai',
        'spending-cap': '40',
        'spending-cap-window': 'day',
      },
    ];
    for (const form of forms) {
      const { page } = await pages.host([form]);
      const frame = await embed(page);
      if (form.id === 'off') expect(await frame.locator('#byo-cap-max').count()).toBe(0);
      if (form.id === 'preset') {
        expect(await cap(frame).inputValue()).toBe('40');
        expect(await period(frame).inputValue()).toBe('day');
      }
      await frame.getByLabel('API key').fill('sk-byo-test-valid');
      await frame.getByRole('button', { name: 'Connect key' }).click();
      await waitForEvent(page, 'byo:connected');
      await page.close();
    }
    expect((await stored('cust_nocap')).limits).toBeNull();
    expect((await stored('cust_capoff')).limits).toBeNull();
    expect((await stored('cust_preset')).limits).toEqual([{ metric: 'cost_usd', window: 'day', max: 40 }]);
  });

  it('has no accessibility violations with its refusal shown, in both themes', async () => {
    for (const theme of ['light', 'dark']) {
      const { page } = await pages.host([{ id: theme, theme, 'publishable-key': project.pkTest, 'ref-id': `cust_cap_${theme}` }]);
      const frame = await embed(page);
      await frame.getByLabel('API key').fill('sk-byo-test-valid');
      await cap(frame).fill('0');
      await frame.getByRole('button', { name: 'Connect key' }).click();
      await frame.getByRole('alert').filter({ hasText: 'spending cap' }).waitFor();
      const violations = await axeViolations(frame);
      expect(violations, theme).toEqual([]);
      await page.close();
    }
  });
});

describe('the models count after a connect', () => {
  it('says how many models the key unlocks once the listing that follows the connect is read', async () => {
    const typed = 'sk-proj-formModels0000000000000list';
    const { page, seen } = await pages.host([
      { id: 'models', 'publishable-key': project.pkTest, 'ref-id': 'cust_models', provider: 'openai' },
    ]);
    const frame = await embed(page);
    await frame.getByLabel('API key').fill(typed);
    await frame.getByRole('button', { name: 'Connect key' }).click();
    await waitForEvent(page, 'byo:connected');
    const status = frame.getByRole('status');
    await frame.waitForFunction(() => document.getElementById('byo-status')?.textContent?.includes('models'), null, { timeout: 15_000 });
    expect(await status.textContent()).toBe('Connected. Your OpenAI key sk-proj-...list is stored. This key unlocks 42 models.');
    expect((await stored('cust_models')).models).toHaveLength(42);
    // The count came from the form's own server route; the key is in no URL.
    expect(seen.requests.some((r) => r.includes('/connect/embed/models?'))).toBe(true);
    expect(seen.requests.some((r) => r.includes(typed))).toBe(false);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('says nothing about models when the key has no listing (the sandbox key is checked, and lists none)', async () => {
    const { page, seen } = await pages.host([
      { id: 'nolist', 'publishable-key': project.pkTest, 'ref-id': 'cust_nolist', provider: 'openai' },
    ]);
    const frame = await embed(page);
    await frame.getByLabel('API key').fill('sk-byo-test-valid');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    await waitForEvent(page, 'byo:connected');
    // Wait for the scheduled check after the connect, then for the form's next ask.
    const deadline = Date.now() + 15_000;
    for (
      let key = await stored('cust_nolist');
      Date.parse(key.lastValidatedAt ?? '0') <= Date.parse(key.updatedAt);
      key = await stored('cust_nolist')
    ) {
      if (Date.now() > deadline) throw new Error('the key was not checked after its connect');
      await new Promise((r) => setTimeout(r, 200));
    }
    const asked = seen.requests.filter((r) => r.includes('/connect/embed/models?')).length;
    await page.waitForTimeout(2500);
    expect(await frame.getByRole('status').textContent()).toBe('Connected. Your OpenAI key sk-...alid is stored.');
    // It stopped asking once the server said no listing would come.
    const after = seen.requests.filter((r) => r.includes('/connect/embed/models?')).length;
    expect(after).toBeGreaterThan(0);
    await page.waitForTimeout(2500);
    expect(seen.requests.filter((r) => r.includes('/connect/embed/models?')).length).toBe(after);
    expect(asked).toBeLessThanOrEqual(after);
    await page.close();
  });
});
