import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watch } from './helpers/browser.js';
import { bundle, htmlPage, PACKAGE_ROOT, StaticServer } from './helpers/static-server.js';

/** `<byo-badge>` from the built package, in Chromium: themes, styling hooks, accessibility, no network. */

const IMAGES = join(PACKAGE_ROOT, '..', 'docs', 'images');
let site: StaticServer;
let browser: Browser;

const BODY = `
  <div id="light" class="stage"><byo-badge app-name="Acme" open></byo-badge></div>
  <div id="dark" class="stage dark"><byo-badge theme="dark" app-name="Acme" open></byo-badge></div>
  <div class="stage"><byo-badge id="closed"></byo-badge></div>
  <div class="stage"><byo-badge id="custom"></byo-badge></div>`;
const HEAD = `<style>
  body { margin: 0; font-family: sans-serif; }
  .stage { padding: 16px 20px 20px; width: 360px; background: #f6f8fa; }
  .stage.dark { background: #010409; }
  #custom { --byo-color-background: rgb(1, 2, 3); --byo-color-accent: rgb(200, 0, 0); }
  #custom::part(button) { border-radius: 4px; }
</style>`;

beforeAll(async () => {
  [site, browser] = await Promise.all([new StaticServer().start(), launchChromium()]);
  // The ESM entry points (as a bundler sees them), registered twice: badge alone, then the index.
  site.script('/badge-only.js', await bundle(`import { ByoBadge } from 'byo-connect/badge'; window.ByoBadgeClass = ByoBadge;`));
  site.script(
    '/both.js',
    await bundle(`import 'byo-connect/badge'; import { createConnect } from 'byo-connect'; window.createConnect = createConnect;`),
  );
  site.page('/esm.html', htmlPage(BODY, '/both.js', HEAD));
  site.page('/badge-only.html', htmlPage(BODY, '/badge-only.js', HEAD));
  // The script-tag build, next to the ESM build on the same page.
  site.page(
    '/global.html',
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>badge</title>${HEAD}
     <script src="/dist/byo-connect.global.js"></script></head><body>${BODY}<script type="module" src="/both.js"></script></body></html>`,
  );
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function open(path: string): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
  const page = await browser.newPage({ viewport: { width: 800, height: 900 }, deviceScaleFactor: 2 });
  const seen = watch(page);
  await page.goto(`${site.url127}${path}`);
  await page.waitForFunction(() => customElements.get('byo-badge') !== undefined);
  await page.locator('#closed').getByRole('button').waitFor();
  return { page, seen };
}

function buttonStyle(page: Page, selector: string) {
  return page.evaluate((sel) => {
    const button = document.querySelector(sel)?.shadowRoot?.querySelector('[part="button"]') as HTMLElement;
    const icon = document.querySelector(sel)?.shadowRoot?.querySelector('[part="icon"]') as Element;
    const s = getComputedStyle(button);
    return { background: s.backgroundColor, color: s.color, radius: s.borderTopLeftRadius, icon: getComputedStyle(icon).color };
  }, selector);
}

describe('<byo-badge>', () => {
  it('renders both themes with their colours, and honours --byo-* properties and ::part()', async () => {
    const { page, seen } = await open('/esm.html');
    expect(await buttonStyle(page, '#light byo-badge')).toEqual({
      background: 'rgb(255, 255, 255)',
      color: 'rgb(31, 35, 40)',
      radius: '999px',
      icon: 'rgb(26, 127, 55)',
    });
    expect(await buttonStyle(page, '#dark byo-badge')).toEqual({
      background: 'rgb(13, 17, 23)',
      color: 'rgb(230, 237, 243)',
      radius: '999px',
      icon: 'rgb(63, 185, 80)',
    });
    expect(await buttonStyle(page, '#custom')).toMatchObject({ background: 'rgb(1, 2, 3)', icon: 'rgb(200, 0, 0)', radius: '4px' });
    expect(await page.locator('#dark byo-badge').getAttribute('theme')).toBe('dark');
    expect(await page.locator('#closed').getAttribute('theme')).toBe('light');
    expect(seen.errors).toEqual([]);

    mkdirSync(IMAGES, { recursive: true });
    await page.locator('#light').screenshot({ path: join(IMAGES, 'badge-light.png') });
    await page.locator('#dark').screenshot({ path: join(IMAGES, 'badge-dark.png') });
    await page.close();
  });

  it('is an accessible disclosure: named button, aria-expanded, a named region, keyboard and Escape', async () => {
    const { page } = await open('/esm.html');
    const badge = page.locator('#closed');
    const button = badge.getByRole('button', { name: 'Your key is protected' });
    const region = badge.getByRole('region', { name: 'How your API key is protected' });
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await region.isVisible()).toBe(false);

    await button.focus();
    await page.keyboard.press('Enter');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    expect(await region.isVisible()).toBe(true);
    const text = await region.textContent();
    expect(text).toContain('AES-256-GCM');
    expect(text).toContain("The app's servers never see it.");
    expect(text).toContain('Revocable at any time.');
    expect(await badge.getAttribute('open')).toBe('');

    await page.keyboard.press('Escape');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await region.isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.getAttribute('part'))).toBe('button');
    await page.keyboard.press('Space');
    expect(await button.getAttribute('aria-expanded')).toBe('true');

    // The app name, when given, is in the words the customer reads.
    expect(await page.locator('#light').getByRole('region').textContent()).toContain("Acme's servers never see it.");
    expect(await badge.ariaSnapshot()).toContain('button "Your key is protected" [expanded]');
    await page.close();
  });

  it('makes no network request of its own', async () => {
    const { page, seen } = await open('/esm.html');
    await page.locator('#closed').getByRole('button').click();
    await page.locator('#custom').getByRole('button').click();
    expect(seen.requests).toEqual([`GET ${site.url127}/esm.html`, `GET ${site.url127}/both.js`]);
    await page.close();
  });

  it('registers on import of byo-connect/badge alone, and registering twice (ESM and script tag) is harmless', async () => {
    const alone = await open('/badge-only.html');
    expect(
      await alone.page.evaluate(() => [
        customElements.get('byo-badge') === (window as any).ByoBadgeClass,
        customElements.get('byo-connect-form') ?? 'none',
      ]),
    ).toEqual([true, 'none']);
    expect(alone.seen.errors).toEqual([]);
    await alone.page.close();

    const both = await open('/global.html');
    await both.page.waitForFunction(() => typeof (window as any).createConnect === 'function');
    expect(both.seen.errors).toEqual([]);
    expect(await both.page.evaluate(() => typeof (window as any).BYOConnect?.createConnect)).toBe('function');
    expect(await both.page.evaluate(() => customElements.get('byo-badge') === (window as any).BYOConnect.ByoBadge)).toBe(true);
    expect(await both.page.locator('#dark').getByRole('button', { name: 'Your key is protected' }).getAttribute('aria-expanded')).toBe(
      'true',
    );
    await both.page.close();
  });
});
