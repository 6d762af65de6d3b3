import { configDefaults, defineConfig } from 'vitest/config';
import { databasePassFilter } from '../scripts/test-passes.mjs';

export default defineConfig({
  test: {
    ...databasePassFilter('cli', configDefaults.exclude),
    include: ['test/**/*.test.ts'],
    // In-memory test servers start from one PGlite image per run (server/test/helpers/pglite-image.ts).
    globalSetup: ['test/global-setup.ts', '../server/test/helpers/pglite-image.global.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
