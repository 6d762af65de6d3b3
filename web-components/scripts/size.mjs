// Size budgets, gzip, for what a page downloads: each entry minified with its dependencies
// (Lit included for the elements). Fails when an entry is over budget.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KB = 1024;
const budgets = [
  { name: 'connect client (byo-connect/client)', entry: 'src/client.ts', max: 2 * KB },
  { name: 'badge with Lit (byo-connect/badge)', entry: 'src/badge.ts', max: 9 * KB },
  { name: 'form with Lit (byo-connect/form)', entry: 'src/form.ts', max: 9 * KB },
  { name: 'everything with Lit (byo-connect.global.js)', entry: 'src/global.ts', max: 12 * KB },
];

let failed = false;
for (const b of budgets) {
  const out = await build({
    entryPoints: [join(root, b.entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    legalComments: 'none',
    write: false,
  });
  const bytes = out.outputFiles[0].contents;
  const gz = gzipSync(bytes, { level: 9 }).length;
  const ok = gz <= b.max;
  failed ||= !ok;
  console.log(
    `${ok ? 'ok  ' : 'OVER'} ${b.name.padEnd(46)} ${(bytes.length / KB).toFixed(2).padStart(6)} KB min  ${(gz / KB).toFixed(2).padStart(5)} KB gzip  (budget ${b.max / KB} KB)`,
  );
}
if (failed) {
  console.error('byo-connect: a size budget is exceeded');
  process.exit(1);
}
