import { configDefaults, defineConfig } from 'vitest/config';
import { databasePassFilter } from '../scripts/test-passes.mjs';

export default defineConfig({
  test: {
    ...databasePassFilter('server', configDefaults.exclude),
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The leak scan: captures logs, secrets and database dumps of every test server, and
    // searches them for every secret after the run (test/hardening/leak-scan.global.ts).
    // One PGlite image per run for in-memory test servers instead of initdb per server
    // (test/helpers/pglite-image.ts).
    globalSetup: ['test/hardening/leak-scan.global.ts', 'test/helpers/pglite-image.global.ts'],
  },
});
