import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it (`apt-get install -y chromium`) when missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get update && apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Every request a page makes, and every error it throws, for assertions. */
export function watch(page: Page): { requests: string[]; errors: string[]; console: string[] } {
  const seen = { requests: [] as string[], errors: [] as string[], console: [] as string[] };
  page.on('request', (r) => seen.requests.push(`${r.method()} ${r.url()}`));
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('console', (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  return seen;
}
