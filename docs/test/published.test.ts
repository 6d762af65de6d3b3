import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './lib/browser.js';
import { type CodeBlock, parseBlocks, type TestBlock } from './lib/markdown.js';
import { type DocContext, runDocument } from './lib/run.js';
import { createProject, type DocsServer, type ProjectKeys, startDocsServer } from './lib/server.js';

/**
 * The published integration snippets (test/published/snippets.md), each run exactly as
 * written against a started server: the browser ones in Chromium, the backend ones with the
 * built packages and the test-mode sandbox. Each test is named after its snippet, and each
 * checks on the server what the snippet was meant to do, not only that it ran.
 */

const FIXTURE = new URL('./published/snippets.md', import.meta.url);
const RECEIVER_PORT = 4242; // the port the published webhook receiver listens on

interface Snippet extends TestBlock {
  name: string;
}

function publishedSnippets(): Snippet[] {
  const blocks = parseBlocks(readFileSync(FIXTURE, 'utf8'));
  const out: Snippet[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i] as CodeBlock;
    if (!b.options.name) continue;
    const next = blocks[i + 1];
    const flags = new Set(['test', ...(b.options.where === 'browser' ? ['browser'] : [])]);
    out.push({ ...b, flags, name: b.options.name, expected: next?.flags.has('output') ? next : undefined });
  }
  return out;
}

const snippets = publishedSnippets();
const snippet = (name: string): Snippet => {
  const s = snippets.find((x) => x.name === name);
  if (!s) throw new Error(`no published snippet named ${name} in ${FIXTURE.pathname}`);
  return s;
};

/** The customer's provider key in the published snippets, and what the sandbox answers to. */
const customerKey = (s: Snippet): Snippet => ({ ...s, code: s.code.replaceAll("'sk-...'", "'sk-byo-test-valid'") });

let server: DocsServer;
let browser: Browser | undefined;

beforeAll(async () => {
  server = await startDocsServer({ BYO_ALLOWED_UPSTREAM_HOSTS: `127.0.0.1:${RECEIVER_PORT}` });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

function context(keys: ProjectKeys, extra: Partial<DocContext> = {}): DocContext {
  return {
    url: server.url,
    adminToken: server.adminToken,
    publishableKey: keys.publishableKey,
    secretKey: keys.secretKey,
    browser: async () => (browser ??= await launchChromium()),
    ...extra,
  };
}

async function run(s: Snippet, keys: ProjectKeys, extra: Partial<DocContext> = {}): Promise<void> {
  await runDocument(`published/${s.name}`, [s], context(keys, extra));
}

async function api(keys: ProjectKeys, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${keys.secretKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function connectAll(keys: ProjectKeys): Promise<void> {
  for (const provider of ['openai', 'anthropic', 'google']) {
    const r = await api(keys, 'POST', '/v1/keys/connect', { provider, refId: 'customer_123', providerKey: 'sk-byo-test-valid' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
}

describe('published snippets', () => {
  it('the fixture holds every published snippet', () => {
    expect(snippets.map((s) => s.name)).toEqual([
      'frontend-connect',
      'frontend-connect-compatible',
      'badge',
      'backend-openai',
      'backend-anthropic',
      'backend-google',
      'keys-validate',
      'keys-revoke',
      'errors',
      'webhook-signature',
    ]);
  });

  it('frontend-connect: `const connect = createConnect(...); await connect(...)` stores the key', async () => {
    const keys = await createProject(server, 'published frontend-connect');
    await run(customerKey(snippet('frontend-connect')), keys);
    const key = await api(keys, 'GET', '/v1/keys/openai/customer_123');
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({
      provider: 'openai',
      refId: 'customer_123',
      status: 'active',
      keyHint: 'sk-...' + 'alid',
      baseUrl: null,
    });
  });

  it('frontend-connect-compatible: an OpenAI-compatible base URL is stored with the key', async () => {
    const keys = await createProject(server, 'published frontend-connect-compatible');
    await run(customerKey(snippet('frontend-connect-compatible')), keys);
    const key = await api(keys, 'GET', '/v1/keys/openai/customer_123');
    expect(key.body).toMatchObject({ status: 'active', baseUrl: 'https://openrouter.ai/api/v1' });
  });

  it('badge: `<byo-badge theme="dark">` with `import "byo-connect/badge"` renders, dark', async () => {
    const keys = await createProject(server, 'published badge');
    const check = `
      await customElements.whenDefined('byo-badge');
      const badge = document.querySelector('byo-badge') as HTMLElement & { updateComplete: Promise<unknown> };
      await badge.updateComplete;
      const button = badge.shadowRoot?.querySelector('button');
      console.log('badge', badge.getAttribute('theme'), button?.textContent?.trim(), getComputedStyle(button!).color);
    `;
    await run({ ...snippet('badge'), expected: text('badge dark Your key is protected rgb(...)') }, keys, { browserCheck: check });
  });

  describe('backend, on a project with customer_123 connected', () => {
    let keys: ProjectKeys;
    beforeAll(async () => {
      keys = await createProject(server, 'published backend');
      await connectAll(keys);
    });

    it('backend-openai: responses.create answers through the proxy', () => run(snippet('backend-openai'), keys));
    it('backend-anthropic: messages.create answers through the proxy', () => run(snippet('backend-anthropic'), keys));
    it('backend-google: generateContent.create answers through the proxy', () => run(snippet('backend-google'), keys));
    it('keys-validate: keys.validate says valid', () => run(snippet('keys-validate'), keys));

    it('errors: a BYOKError carries statusCode and code (a customer with no key: 404)', async () => {
      const empty = await createProject(server, 'published errors');
      await run({ ...snippet('errors'), expected: text('404 key_not_found ...') }, empty);
    });

    it('errors: a wrong secret key is an AuthenticationError', async () => {
      const wrong = { ...keys, secretKey: `byo_sk_test_${'A'.repeat(40)}` };
      await run({ ...snippet('errors'), expected: text('Invalid BYO secret key: ...') }, wrong);
    });

    it('keys-revoke: keys.revoke revokes the key', async () => {
      await run(snippet('keys-revoke'), keys);
      const key = await api(keys, 'GET', '/v1/keys/openai/customer_123');
      expect(key.body).toMatchObject({ status: 'revoked' });
    });
  });

  it('webhook-signature: the X-BYO-Signature check accepts a delivery and refuses a forged one', async () => {
    const keys = await createProject(server, 'published webhook-signature');
    const endpoint = await api(keys, 'POST', '/v1/webhooks/endpoints', {
      url: `http://127.0.0.1:${RECEIVER_PORT}/webhooks`,
      events: ['key.revoked'],
    });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(200);
    const receiver = {
      ...snippet('webhook-signature'),
      flags: new Set(['test', 'background']),
      options: { ...snippet('webhook-signature').options, ready: 'listening' },
    };
    await run(receiver, keys, {
      env: { BYO_WEBHOOK_SECRET: endpoint.body.secret },
      afterBlocks: async () => {
        const body = JSON.stringify({ id: 'evt_forged', type: 'key.revoked', data: { refId: 'forged' } });
        const forged = await fetch(`http://127.0.0.1:${RECEIVER_PORT}/webhooks`, {
          method: 'POST',
          headers: { 'x-byo-signature': '0'.repeat(64) },
          body,
        });
        expect(forged.status).toBe(401);
        await connectAll(keys);
        expect((await api(keys, 'POST', '/v1/keys/revoke', { provider: 'openai', refId: 'customer_123' })).status).toBe(200);
      },
    });
  });

  it('webhook-signature: during a secret rotation, a receiver given the new secret verifies every delivery', async () => {
    const keys = await createProject(server, 'published webhook-signature rotation');
    const endpoint = await api(keys, 'POST', '/v1/webhooks/endpoints', {
      url: `http://127.0.0.1:${RECEIVER_PORT}/webhooks`,
      events: ['key.revoked'],
    });
    const rotated = await api(keys, 'POST', `/v1/webhooks/endpoints/${endpoint.body.id}/rotate-secret`, {});
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.previousSecretExpiresAt).not.toBeNull(); // the old secret still signs too
    const receiver = {
      ...snippet('webhook-signature'),
      flags: new Set(['test', 'background']),
      options: { ...snippet('webhook-signature').options, ready: 'listening' },
    };
    await run(receiver, keys, {
      env: { BYO_WEBHOOK_SECRET: rotated.body.secret },
      afterBlocks: async () => {
        await connectAll(keys);
        expect((await api(keys, 'POST', '/v1/keys/revoke', { provider: 'openai', refId: 'customer_123' })).status).toBe(200);
      },
    });
  });
});

function text(code: string): CodeBlock {
  return { lang: 'text', flags: new Set(['output']), options: {}, line: 0, code };
}
