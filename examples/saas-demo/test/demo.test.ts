import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * End to end, as a person would use it: `pnpm start` in examples/saas-demo (BYO in sandbox mode
 * plus the demo app), then in Chromium: connect a sandbox key in BYO's iframe form, ask a
 * question, and read the streamed answer.
 */

const HERE = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SANDBOX_REPLY =
  'Hello from the BYO sandbox! This is a deterministic test-mode reply, so you can build and test your integration without a provider account.';

let demo: ChildProcess;
let output = '';
let url: string;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), 'byo-demo-'));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  // The documented command, on free ports and a scratch data directory.
  demo = spawn('pnpm', ['start'], {
    cwd: HERE,
    env: { ...process.env, PORT: '0', BYO_PORT: '0', BYO_DEMO_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  demo.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const start = Date.now();
  for (;;) {
    const m = /is running: open (http:\/\/\S+)/.exec(output);
    if (m) {
      url = m[1] as string;
      break;
    }
    if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${output}`);
    if (Date.now() - start > 240_000) throw new Error(`the demo did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (demo?.pid && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    process.kill(-demo.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('examples/saas-demo', () => {
  it('connects a sandbox key in the iframe form, then streams the AI answer into the page', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const demoOrigin = new URL(url).origin;
    const sentToDemo: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).origin === demoOrigin) sentToDemo.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`);
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });

    await page.goto(url);
    await page.locator('byo-badge').getByRole('button').waitFor();

    // Before a key is connected, the backend says so instead of failing obscurely.
    await page.getByRole('button', { name: 'Ask the AI' }).click();
    await page.locator('#answer.error').waitFor();
    expect(await page.locator('#answer').textContent()).toBe('Connect your openai key first.');

    // The key is typed into BYO's page, in a cross-origin iframe.
    const frame = page.frameLocator('byo-connect-form iframe');
    await frame.locator('#byo-key').fill('sk-byo-test-valid');
    await frame.getByRole('button', { name: 'Connect key' }).click();
    // Whatever the outcome, the page says it in #connect-status; a failure shows what it said.
    const said = await page
      .locator('#connect-status:not(:empty)')
      .waitFor({ timeout: 30_000 })
      .then(() => page.locator('#connect-status').textContent())
      .catch(async (err: unknown) => {
        const inFrame = await frame
          .locator('body')
          .textContent()
          .catch(() => '(frame unreadable)');
        throw new Error(
          `no connect result after 30 s (${String(err)})\nframe: ${inFrame}\nproblems: ${problems.join('; ')}\ndemo:\n${output}`,
        );
      });
    expect(said, `frame problems: ${problems.join('; ')}`).toBe('Your openai key is connected.');
    await page.locator('#connected-keys', { hasText: 'openai (sk-...alid)' }).waitFor();

    // Ask: the answer arrives as a stream (chunked, no length) and fills the page.
    await page.locator('#question').fill('What is BYO?');
    const response = page.waitForResponse((r) => r.url().endsWith('/api/ask'));
    await page.getByRole('button', { name: 'Ask the AI' }).click();
    const res = await response;
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^text\/plain/);
    expect(res.headers()['content-length']).toBeUndefined();
    expect(res.headers()['transfer-encoding']).toBe('chunked');
    await page.locator('#answer[data-done="true"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('#answer').textContent()).toBe(SANDBOX_REPLY);

    const shot = process.env.BYO_UPDATE_SCREENSHOTS ? join(HERE, 'screenshot.png') : join(tmpdir(), `byo-saas-demo-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });

    // The provider key went to BYO only: nothing the page sent to the app carried it.
    expect(sentToDemo.length).toBeGreaterThan(3);
    expect(sentToDemo.filter((r) => r.includes('sk-byo-test-valid'))).toEqual([]);
    expect(problems.filter((p) => !/status of 409/.test(p))).toEqual([]);
    await context.close();
  });
});
