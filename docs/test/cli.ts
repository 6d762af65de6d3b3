/**
 * Runs the test blocks of one or more Markdown files, for writing docs:
 *   pnpm --filter byo-docs exec tsx test/cli.ts ../docs/quickstart.md
 * Starts a server like the test does, or uses a running one: BYO_DOCS_URL=http://127.0.0.1:3000
 * with BYO_DOCS_ADMIN_TOKEN (the dev server's is in server/.byo/admin.token).
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './lib/browser.js';
import { testBlocks } from './lib/markdown.js';
import { runDocument, serverEnv } from './lib/run.js';
import { createProject, type DocsServer, REPO, startDocsServer } from './lib/server.js';

const files = process.argv.slice(2).map((f) => resolve(f));
if (files.length === 0) {
  console.error('usage: tsx test/cli.ts <file.md>...');
  process.exit(64);
}
const external = process.env.BYO_DOCS_URL;
const server: Pick<DocsServer, 'url' | 'adminToken'> & { stop?: () => Promise<void> } = external
  ? { url: external, adminToken: process.env.BYO_DOCS_ADMIN_TOKEN ?? '' }
  : await startDocsServer(serverEnv(files.flatMap((f) => testBlocks(readFileSync(f, 'utf8')))));
let browser: Browser | undefined;
let failed = false;
try {
  for (const path of files) {
    const file = relative(REPO, path);
    const blocks = testBlocks(readFileSync(path, 'utf8'));
    const keys = await createProject(server, file);
    try {
      await runDocument(file, blocks, {
        url: server.url,
        adminToken: server.adminToken,
        ...keys,
        browser: async () => (browser ??= await launchChromium()),
      });
      console.log(`ok   ${file} (${blocks.length} blocks)`);
    } catch (err) {
      failed = true;
      console.log(`FAIL ${file}\n${(err as Error).message}`);
    }
  }
} finally {
  await browser?.close();
  await server.stop?.();
}
process.exit(failed ? 1 : 0);
