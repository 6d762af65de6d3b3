import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layering of server/src (docs/architecture.md), enforced: every relative import of every
 * .ts file is checked against this table. A rule names a folder (or top-level file, without
 * .ts) and the paths under src it must not import; a path matches itself and everything
 * under it. Lower layers never reach up, so a change in an upper layer cannot break them.
 */
const UPPER = ['app', 'features', 'server', 'services', 'http', 'trpc', 'connect-embed', 'docs-page'];
const RULES: Record<string, string[]> = {
  // Pure: provider specs and wire shapes, zod schemas. Row and provider names from db/schema.ts only.
  providers: [...UPPER, 'domain', 'db/database', 'db/migrate', 'vault', 'auth', 'usage', 'webhooks', 'proxy'],
  schemas: [...UPPER, 'domain', 'db/database', 'db/migrate', 'vault', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox'],
  sandbox: [...UPPER, 'domain', 'db/database', 'db/migrate', 'vault', 'auth', 'usage', 'webhooks', 'proxy'],
  // Storage and primitives.
  db: [...UPPER, 'domain', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox'],
  vault: [...UPPER, 'domain', 'db', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox', 'providers'],
  net: [...UPPER, 'domain', 'db', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox', 'providers'],
  errors: [...UPPER, 'domain', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox'],
  auth: [...UPPER, 'domain', 'usage', 'webhooks', 'proxy', 'sandbox'],
  usage: [...UPPER, 'domain', 'webhooks', 'proxy', 'sandbox'],
  // The domain: used by the API, the proxy and webhooks; uses none of them (`Services` is its input).
  domain: [...UPPER.filter((u) => u !== 'services'), 'webhooks', 'proxy', 'sandbox', 'usage'],
  // Consumers of the domain, beside each other: none imports another.
  webhooks: [...UPPER.filter((u) => u !== 'app' && u !== 'services'), 'proxy', 'sandbox'],
  'key-health': [...UPPER.filter((u) => u !== 'app' && u !== 'services'), 'proxy', 'sandbox', 'webhooks'],
  proxy: ['trpc', 'connect-embed', 'docs-page', 'webhooks'],
  trpc: ['http', 'connect-embed', 'docs-page', 'proxy', 'sandbox'],
  'connect-embed': ['http', 'trpc', 'docs-page', 'proxy', 'webhooks', 'sandbox'],
};

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** `import`/`export ... from './x.js'` and `import('./x.js')`, relative only (packages are not layers). */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** src-relative path without extension: `domain/provider-keys`. */
const srcPath = (abs: string) =>
  relative(SRC, abs)
    .replace(/\\/g, '/')
    .replace(/\.(js|ts)$/, '');
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The rule an import from `from` to `to` (src-relative paths) breaks, if any. */
function broken(from: string, to: string): string | undefined {
  const owner = Object.keys(RULES).find((folder) => under(from, folder));
  if (!owner || under(to, owner)) return undefined;
  const banned = RULES[owner]?.find((b) => under(to, b));
  return banned && `${owner} must not import ${banned}`;
}

let scanned = 0;
function violations(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = srcPath(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      scanned++;
      const to = srcPath(resolve(dirname(file), m[1] as string));
      const rule = broken(from, to);
      if (rule) found.push(`${from} imports ${to} (${rule})`);
    }
  }
  return found;
}

describe('import boundaries of server/src', () => {
  it('no module imports a layer its folder may not use', () => {
    expect(violations()).toEqual([]);
  });

  it('the check sees imports and applies the rules (it cannot pass vacuously)', () => {
    violations();
    expect(scanned).toBeGreaterThan(300);
    expect(broken('domain/master-keys', 'webhooks/deliveries')).toBe('domain must not import webhooks');
    expect(broken('sandbox/openai', 'proxy/handler')).toBe('sandbox must not import proxy');
    expect(broken('providers/openai/index', 'db/database')).toBe('providers must not import db/database');
    expect(broken('providers/validate', 'db/schema')).toBeUndefined();
    expect(broken('proxy/keys', 'domain/key-cache')).toBeUndefined();
    expect(Object.keys(RULES).every((folder) => sourceFiles(SRC).some((f) => under(srcPath(f), folder)))).toBe(true);
  });
});
