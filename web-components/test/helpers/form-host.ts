import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Frame, Page } from 'playwright-core';
import type { TestServer } from '../../../server/test/helpers/server.js';
import { watch } from './browser.js';
import { bundle, type StaticServer } from './static-server.js';

/**
 * Host pages for `<byo-connect-form>` tests: the built form on a page served from `site`
 * (http://localhost:<port> by default), framing the BYO server at http://127.0.0.1:<port>, with
 * every `byo:*` event the page sees recorded in `window.events`.
 */

export type Attrs = Record<string, string>;

export const attrs = (a: Attrs) =>
  Object.entries(a)
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ');

export interface FormHost {
  /** A host page with the given forms, opened at `origin` (localhost by default). */
  host(forms: Attrs[], origin?: string, scale?: number): Promise<{ page: Page; seen: ReturnType<typeof watch> }>;
  /** A fresh path on the static site for a page of the test's own. */
  nextPath(): string;
}

/** Adds the host script (`/host.js`) to `site` and returns the page factory. */
export async function formHost(browser: Browser, site: StaticServer, byo: TestServer): Promise<FormHost> {
  site.script(
    '/host.js',
    await bundle(`
      import 'byo-connect/form';
      window.events = [];
      for (const type of ['byo:connected', 'byo:error'])
        document.addEventListener(type, (e) => window.events.push({ type: e.type, target: e.target.id, detail: e.detail, bubbles: e.bubbles, composed: e.composed }));
    `),
  );
  let pageCount = 0;
  const nextPath = () => `/host-${++pageCount}.html`;
  return {
    nextPath,
    async host(forms, origin = site.urlLocalhost, scale = 1) {
      const path = nextPath();
      const body = forms
        .map((a) => `<div class="slot"><byo-connect-form ${attrs({ 'base-url': byo.url, ...a })}></byo-connect-form></div>`)
        .join('');
      site.page(
        path,
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title><style>body{margin:0;background:#f6f8fa}.slot{width:440px;padding:16px}.slot.dark{background:#010409}</style></head><body>${body}<script type="module" src="/host.js"></script></body></html>`,
      );
      const page = await browser.newPage({ viewport: { width: 900, height: 1000 }, deviceScaleFactor: scale });
      const seen = watch(page);
      await page.goto(`${origin}${path}`);
      return { page, seen };
    },
  };
}

/** The embed frame inside the n-th form's shadow root, once its form is interactive. */
export async function embed(page: Page, index = 0): Promise<Frame> {
  const handle = await page.locator('byo-connect-form').nth(index).locator('iframe').elementHandle();
  const frame = await handle?.contentFrame();
  if (!frame) throw new Error('no embed frame');
  await frame.getByLabel('API key').waitFor();
  return frame;
}

export const events = (page: Page) => page.evaluate(() => (window as any).events as any[]);

export async function waitForEvent(page: Page, type: string, count = 1) {
  await page.waitForFunction(([t, n]) => (window as any).events.filter((e: any) => e.type === t).length >= n, [type, count] as const);
  return (await events(page)).filter((e) => e.type === type);
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations in a frame, as `rule: targets`. Injected through the DevTools protocol, which the page's CSP does not govern. */
export async function axeViolations(frame: Frame): Promise<string[]> {
  await frame.evaluate(AXE);
  return frame.evaluate(async () => {
    const result = await (window as any).axe.run(document);
    return result.violations.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
  });
}
