import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testBlocks } from './lib/markdown.js';
import { WORK_ROOT } from './lib/run.js';
import { REPO } from './lib/server.js';

/**
 * Every TypeScript test block also type-checks (strict), against the packages' real types:
 * a snippet that runs but misuses the API (a wrong field that happens to be undefined) fails.
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

describe('docs', () => {
  it('TypeScript test blocks type-check', { timeout: 180_000 }, async () => {
    const dir = join(WORK_ROOT, 'typecheck');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    for (const path of [join(REPO, 'README.md'), ...markdownFiles(join(REPO, 'docs'))]) {
      const file = relative(REPO, path);
      for (const b of testBlocks(readFileSync(path, 'utf8'))) {
        if (b.lang !== 'ts' && b.lang !== 'typescript') continue;
        const name = `${file.replace(/[^A-Za-z0-9]+/g, '_')}_${b.line}.ts`;
        // `export {}` makes each block a module of its own (top-level await, no shared names).
        writeFileSync(join(dir, name), `${b.code}\nexport {};\n`);
        written.push(`${name} <- ${file}:${b.line}`);
      }
    }
    expect(written.length).toBeGreaterThan(3);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['*.ts'],
      }),
    );
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
      () => '',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    expect(result, `blocks:\n${written.join('\n')}`).toBe('');
  });
});
