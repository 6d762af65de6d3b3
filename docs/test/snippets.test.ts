import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './lib/browser.js';
import { testBlocks } from './lib/markdown.js';
import { runDocument, serverEnv } from './lib/run.js';
import { createProject, type DocsServer, REPO, startDocsServer } from './lib/server.js';

/**
 * Runs every code block marked `test` in README.md and docs/**.md against a real BYO server
 * started like `pnpm start` (sandbox mode), so the docs cannot drift from the code.
 */

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.') || (dir === join(REPO, 'docs') && e.name === 'test')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...markdownFiles(p));
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

const docs = [join(REPO, 'README.md'), ...markdownFiles(join(REPO, 'docs'))]
  .map((path) => ({ file: relative(REPO, path), blocks: testBlocks(readFileSync(path, 'utf8')) }))
  .filter((d) => d.blocks.length > 0);

let server: DocsServer;
let browser: Browser | undefined;
beforeAll(async () => {
  server = await startDocsServer(serverEnv(docs.flatMap((d) => d.blocks)));
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('docs', () => {
  it('found the documented snippets', () => {
    expect(docs.map((d) => d.file)).toEqual(expect.arrayContaining(['README.md', 'docs/quickstart.md']));
  });

  it.skipIf(Boolean(process.env.DATABASE_URL))('pnpm start printed the dev keys, saved with mode 0600', () => {
    expect(server.devKeys.publishableKey).toMatch(/^byo_pk_test_/);
    expect(server.devKeys.secretKey).toMatch(/^byo_sk_test_/);
    const saved = JSON.parse(readFileSync(server.devKeysFile as string, 'utf8'));
    expect(saved).toMatchObject(server.devKeys);
  });

  for (const doc of docs) {
    it(`${doc.file}: every test block runs`, { timeout: 240_000 }, async () => {
      // The quickstart uses the keys the server printed, as a reader would; others get a fresh project.
      const keys = doc.file === 'docs/quickstart.md' ? server.devKeys : await createProject(server, doc.file);
      await runDocument(doc.file, doc.blocks, {
        url: server.url,
        adminToken: server.adminToken,
        publishableKey: keys.publishableKey,
        secretKey: keys.secretKey,
        browser: async () => (browser ??= await launchChromium()),
      });
    });
  }
});
