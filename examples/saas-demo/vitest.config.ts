import { configDefaults, defineConfig } from 'vitest/config';
import { databasePassFilter } from '../../scripts/test-passes.mjs';

export default defineConfig({
  test: {
    ...databasePassFilter('examples/saas-demo', configDefaults.exclude),
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
