// Builds byo-connect: ESM entry points with Lit external (for bundlers), the single-file
// script-tag build with Lit inside, and the .d.ts declarations (tsc).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
process.chdir(root);
rmSync('dist', { recursive: true, force: true });

const common = { bundle: true, target: 'es2022', platform: 'browser', legalComments: 'none', logLevel: 'warning' };

// ESM for bundlers: one file per entry point, shared code in chunks, Lit left to the app.
await build({
  ...common,
  entryPoints: { index: 'src/index.ts', badge: 'src/badge.ts', form: 'src/form.ts', client: 'src/client.ts' },
  outdir: 'dist',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['lit', 'lit/*', 'lit-html', 'lit-html/*', 'lit-element', 'lit-element/*', '@lit/*'],
  sourcemap: true,
});

// One file for a <script> tag: Lit bundled, both elements registered, window.BYOConnect.
await build({
  ...common,
  entryPoints: ['src/global.ts'],
  outfile: 'dist/byo-connect.global.js',
  format: 'iife',
  globalName: 'BYOConnect',
  minify: true,
  sourcemap: true,
});

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('byo-connect: built dist/');
