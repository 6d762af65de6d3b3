// Builds the operator dashboard (server/dashboard/) into dist/dashboard/: its script (Lit and
// the tRPC client bundled; uPlot split into a chunk loaded only by chart screens) and its
// stylesheet, with content-hashed names, and index.html naming them. No CDN: the server serves
// these files itself (src/dashboard-page/).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'dashboard');
const out = join(root, 'dist', 'dashboard');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(src, 'src', 'main.ts'), styles: join(src, 'src', 'styles.css') },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: join(src, 'tsconfig.json'),
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  metafile: true,
});

const outputs = Object.entries(result.metafile.outputs);
const entry = (name) => basename(outputs.find(([, o]) => o.entryPoint?.endsWith(name))?.[0] ?? '');
const html = readFileSync(join(src, 'index.html'), 'utf8').replace('%JS%', entry('main.ts')).replace('%CSS%', entry('styles.css'));
writeFileSync(join(out, 'index.html'), html);
console.log(`byo-server: built dist/dashboard (${outputs.length} files)`);
