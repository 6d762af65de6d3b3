import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layering of server/src (docs/architecture.md), enforced twice from one table: `pnpm lint`
 * runs dependency-cruiser with server/.dependency-cruiser.cjs (the RULES table and the forbidden
 * rules made from it), and this test applies those same rules with its own scanner of every
 * relative import of every .ts file. Two independent readers of the imports, one rule set: a
 * resolver quirk in either cannot hide a forbidden import, and the rules cannot drift apart.
 */
interface Rule {
  name: string;
  comment: string;
  from: { path: string };
  to: { path: string; pathNot: string };
}
const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as { forbidden: Rule[] };
const RULES = config.forbidden.map((r) => ({
  ...r,
  from: new RegExp(r.from.path),
  to: new RegExp(r.to.path),
  toNot: new RegExp(r.to.pathNot),
}));

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

/** The rule an import from `from` to `to` (src-relative paths) breaks, if any, as dependency-cruiser matches it. */
function broken(from: string, to: string): string | undefined {
  const [f, t] = [`src/${from}.ts`, `src/${to}.ts`];
  return RULES.find((r) => r.from.test(f) && r.to.test(t) && !r.toNot.test(t))?.comment;
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
    expect(broken('proxy/provider-key', 'domain/provider-key-cache')).toBeUndefined();
    expect(broken('domain/zz', 'domain/provider-keys')).toBeUndefined();
    expect(broken('app', 'domain/provider-keys')).toBeUndefined();
    expect(broken('webhooks/fanout', 'services')).toBeUndefined();
    expect(broken('key-health/scheduler', 'webhooks/fanout')).toBe('key-health must not import webhooks');
    expect(broken('errors', 'domain/scope')).toBe('errors must not import domain');
    expect(broken('vault/seal', 'dbx/y')).toBeUndefined(); // a prefix of a name is not the folder
    // Every rule names a folder or file that exists, so none is a dead letter.
    const files = sourceFiles(SRC).map((f) => `src/${srcPath(f)}.ts`);
    expect(RULES.length).toBeGreaterThan(100);
    expect(RULES.filter((r) => !files.some((f) => r.from.test(f)))).toEqual([]);
  });
});
