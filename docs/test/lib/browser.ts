import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Runs a browser snippet: bundles it (imports such as `byo-connect` resolve from the docs
 * package), serves it from a page on its own origin (so CORS is exercised as in a real app),
 * and collects `console.log` lines as its stdout.
 */
export async function runInBrowser(
  browser: Browser,
  code: string,
  work: string,
  name: string,
  timeoutMs: number,
  extra: { body?: string; check?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = join(work, `${name}.browser.ts`);
  writeFileSync(entry, `${code}\n`);
  // The check runs after the snippet (imports run in order), from a module of its own.
  const check = join(work, `${name}.check.ts`);
  writeFileSync(check, `${extra.check ?? ''}\nexport {};\n`);
  const bundled = await build({
    stdin: {
      contents: `import './${name}.browser.ts';\nimport './${name}.check.ts';\n(globalThis as any).__byoSnippetDone = true;\n`,
      resolveDir: work,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const js = bundled.outputFiles[0]?.text ?? '';
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>snippet</title></head><body>${extra.body ?? ''}<script type="module" src="/snippet.js"></script></body></html>`;
  const server = createServer((req, res) => {
    if (req.url === '/snippet.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const page = await browser.newPage();
  let stdout = '';
  let stderr = '';
  let failed = false;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') stderr += `${m.text()}\n`;
    else stdout += `${m.text()}\n`;
  });
  page.on('pageerror', (e) => {
    failed = true;
    stderr += `${e.stack ?? e.message}\n`;
  });
  try {
    await page.goto(`http://127.0.0.1:${port}/`);
    const start = Date.now();
    while (!failed && Date.now() - start < timeoutMs) {
      if (await page.evaluate(() => (globalThis as { __byoSnippetDone?: boolean }).__byoSnippetDone === true)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = await page.evaluate(() => (globalThis as { __byoSnippetDone?: boolean }).__byoSnippetDone === true);
    return { code: done && !failed ? 0 : 1, stdout, stderr: done || failed ? stderr : `${stderr}timed out after ${timeoutMs} ms\n` };
  } finally {
    await page.close();
    server.close();
  }
}
