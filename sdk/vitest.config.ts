import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { databasePassFilter } from '../scripts/test-passes.mjs';

export default defineConfig({
  resolve: { alias: { 'byo-sdk': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    ...databasePassFilter('sdk', configDefaults.exclude),
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // In-memory test servers start from one PGlite image per run (server/test/helpers/pglite-image.ts).
    globalSetup: ['../server/test/helpers/pglite-image.global.ts'],
  },
});
