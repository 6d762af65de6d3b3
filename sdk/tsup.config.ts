import { defineConfig } from 'tsup';

// ESM + CJS + bundled .d.ts. The generated OpenAPI types are inlined into the .d.ts, so the
// published types never point at the (unpublished) server package.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { types: [] } },
  tsconfig: 'tsconfig.build.json',
  target: 'es2020',
  platform: 'neutral',
  // No clean: other packages' tests may be reading dist/ while this package is rebuilt.
  clean: false,
  sourcemap: true,
  splitting: false,
  treeshake: true,
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
});
