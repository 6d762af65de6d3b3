import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchChromium } from './browser.js';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
}, 240_000);
afterAll(async () => {
  await Promise.allSettled([browser?.close(), server?.close()]);
});

const KEY_OPERATIONS = ['/keys/connect', '/keys/validate', '/keys/revoke', '/keys', '/keys/{provider}/{refId}'];

describe('GET /docs', () => {
  it('serves an HTML shell with a strict CSP, no inline script or style, and nothing from another origin', async () => {
    const res = await server.request('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const scripts = [...res.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="/);
      expect(body?.trim()).toBe('');
    }
    expect(res.text).not.toMatch(/<style|\bstyle=|\son[a-z]+=/i);
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves swagger-ui-dist assets from the package, gzipped when asked, and nothing else', async () => {
    const plain = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.length).toBeGreaterThan(100_000);
    expect(body.toString('utf8', 0, 200_000)).toContain('SwaggerUIBundle');

    const { request } = await import('node:http');
    const gz = await new Promise<{ status: number; encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      const req = request(`${server.url}/docs/assets/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, encoding: r.headers['content-encoding'], body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(gz.status).toBe(200);
    expect(gz.encoding).toBe('gzip');
    expect(gz.body.length).toBeLessThan(body.length / 2);
    expect(gunzipSync(gz.body).equals(body)).toBe(true);

    const etag = plain.headers.get('etag') ?? '';
    const again = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);

    for (const path of [
      '/docs/assets/package.json',
      '/docs/assets/..%2F..%2Fpackage.json',
      '/docs/assets/index.html',
      '/docs/assets/nope.js',
    ]) {
      const res = await server.request('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it('renders in Chromium, lists the key-management operations with request examples, and can call the API', {
    timeout: 180_000,
  }, async () => {
    const origin = new URL(server.url).origin;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const foreign: string[] = [];
    const problems: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );

    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 60_000 });
    await expect(page.locator('.info .title').first().textContent()).resolves.toContain('BYO API');
    const paths = await page.locator('.opblock .opblock-summary-path').allTextContents();
    const normalized = paths.map((p) => p.replace(/\u200b/g, '').trim());
    for (const op of KEY_OPERATIONS) expect(normalized).toContain(op);

    // Open "Store or replace a customer's provider key": the example body comes from the zod metas.
    const connect = page.locator('#operations-Keys-keys-connect');
    await connect.locator('.opblock-summary').click();
    const example = connect.locator('.body-param__example, .microlight').first();
    await example.waitFor();
    const exampleText = (await example.textContent()) ?? '';
    expect(exampleText).toContain('sk-byo-test-valid');
    expect(exampleText).toContain('customer_123');

    // Authorize with a publishable key and run the example request from the page.
    const project = await server.createProject();
    await page.locator('.auth-wrapper .authorize').click();
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(project.pkTest);
    await page.locator('.modal-ux .auth-btn-wrapper .authorize').click();
    await page.locator('.modal-ux .btn-done, .modal-ux .close-modal').first().click();
    await connect.locator('.try-out__btn').click();
    await connect.locator('.execute').click();
    const status = connect.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    expect((await status.textContent())?.trim()).toBe('200');
    const responseBody = (await connect.locator('.live-responses-table .response-col_description pre').first().textContent()) ?? '';
    expect(responseBody).toContain('"keyHint": "sk-...alid"');
    await connect.locator('.opblock-summary').click();

    const shot = process.env.BYO_UPDATE_SCREENSHOTS
      ? join(import.meta.dirname, '../../../docs/images/api-reference.png')
      : join(tmpdir(), `byo-api-reference-${process.pid}.png`);
    mkdirSync(join(shot, '..'), { recursive: true });
    await page.screenshot({ path: shot, fullPage: false });

    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('GET /v1/openapi.json', () => {
  it('gives every operation a request example: each body field and parameter has one', async () => {
    const res = await server.request('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(res.body.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const p of op.parameters ?? []) {
          if (p.example === undefined && p.schema?.example === undefined && p.schema?.default === undefined && !p.schema?.enum)
            missing.push(`${where} parameter ${p.name}`);
        }
        // A body needs a whole-body example (`.meta({ example })` on the input object) or one per field.
        const schema = op.requestBody?.content?.['application/json']?.schema;
        if (schema && schema.example === undefined && !schema.examples?.length) {
          for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, any>)) {
            if (!hasExample(prop)) missing.push(`${where} body field ${name}`);
          }
        }
      }
    }
    expect(missing, 'add .meta({ example }) to these fields in server/src/schemas/*.ts').toEqual([]);
  });
});

/** A field "has an example" when Swagger UI can show a meaningful value for it. */
function hasExample(s: any): boolean {
  if (!s || typeof s !== 'object') return false;
  if (s.example !== undefined || s.examples !== undefined || s.default !== undefined || s.const !== undefined) return true;
  if (Array.isArray(s.enum) || s.type === 'boolean') return true;
  if (s.type === 'array') return hasExample(s.items);
  if (s.type === 'object' && s.properties) return Object.values(s.properties).every(hasExample);
  for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(s[k])) return s[k].some(hasExample);
  return false;
}
