import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The leak scan: captures logs, secrets and database dumps of every test server, and
    // searches them for every secret after the run (test/hardening/leak-scan.global.ts).
    globalSetup: ['test/hardening/leak-scan.global.ts'],
  },
});
