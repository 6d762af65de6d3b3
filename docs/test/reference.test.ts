import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../server/src/config.js';
import { ERROR_STATUS } from '../../server/src/errors.js';
import { PROVIDERS } from '../../server/src/providers/registry.js';
import { REPO } from './lib/server.js';

/** Rows of every Markdown table whose first cell is a single `code span`. */
function codeRows(file: string): { name: string; cells: string[] }[] {
  const rows: { name: string; cells: string[] }[] = [];
  for (const line of readFileSync(join(REPO, file), 'utf8').split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m) rows.push({ name: m[1] as string, cells: (m[2] as string).split('|').map((c) => c.trim()) });
  }
  return rows;
}

describe('docs/self-hosting.md', () => {
  const rows = codeRows('docs/self-hosting.md').filter((r) => /^[A-Z][A-Z0-9_]+$/.test(r.name));
  const shape = EnvSchema.shape as Record<string, { safeParse: (v: unknown) => { success: boolean; data?: unknown } }>;

  it('documents every environment variable the server reads, and no other', () => {
    const documented = rows.map((r) => r.name);
    const missing = Object.keys(shape).filter((k) => !documented.includes(k));
    expect(missing, 'add these to the tables in docs/self-hosting.md').toEqual([]);
    expect(
      documented.filter((k) => !(k in shape)),
      'no longer in server/src/config.ts',
    ).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('gives each variable its real default', () => {
    const wrong: string[] = [];
    for (const { name, cells } of rows) {
      const field = shape[name];
      if (!field) continue;
      const real = field.safeParse(undefined).data;
      const cell = cells[0] ?? '';
      if (cell === '—') {
        if (!(real === undefined || (Array.isArray(real) && real.length === 0)))
          wrong.push(`${name}: documented none, real ${JSON.stringify(real)}`);
        continue;
      }
      const raw = /^`([^`]*)`$/.exec(cell)?.[1];
      if (raw === undefined) {
        wrong.push(`${name}: default cell should be \`value\` or —, got "${cell}"`);
        continue;
      }
      const parsed = field.safeParse(raw);
      if (!parsed.success || JSON.stringify(parsed.data) !== JSON.stringify(real))
        wrong.push(`${name}: documented ${raw} (${JSON.stringify(parsed.data)}), real ${JSON.stringify(real)}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('docs/api.md', () => {
  it('lists every error code with its HTTP status', () => {
    const rows = codeRows('docs/api.md').filter((r) => /^\d{3}$/.test(r.cells[0] ?? ''));
    const documented = Object.fromEntries(rows.map((r) => [r.name, Number(r.cells[0])]));
    expect(documented, 'keep the error table in docs/api.md in sync with server/src/errors.ts').toEqual({ ...ERROR_STATUS });
  });
});

describe('docs/proxy.md', () => {
  it('has one row per provider of the registry, with its proxy path, default base and auth header', () => {
    const rows = codeRows('docs/proxy.md').filter((r) => (r.cells[0] ?? '').includes('/v1/proxy/'));
    expect(rows.map((r) => r.name)).toEqual(PROVIDERS.map((p) => p.id));
    for (const p of PROVIDERS) {
      const row = rows.find((r) => r.name === p.id);
      expect(row?.cells[0], p.id).toBe(`\`http://localhost:3000/v1/proxy/${p.id}\``);
      expect(row?.cells[1], p.id).toContain(`\`${p.defaultBaseUrl}\``);
      expect(row?.cells[2]?.toLowerCase(), p.id).toContain(p.authHeader);
    }
  });
});
