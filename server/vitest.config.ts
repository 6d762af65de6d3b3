import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import { databasePassFilter } from '../scripts/test-passes.mjs';

export default defineConfig({
  test: {
    ...databasePassFilter('server', configDefaults.exclude),
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // At least two files at a time: vitest's default (one worker fewer than the CPUs) runs one
    // file at a time on CI's 2 CPUs, which keeps one core busy and leaves the other mostly idle
    // (docs/performance.md, "Test-suite time").
    // On PostgreSQL too: schemas are dropped only after the run (test/helpers/pg-schemas.global.ts),
    // since a schema dropped while another file migrated broke its migration (kysely's table
    // introspection casts every schema's tables to regclass: "schema t_... does not exist").
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The leak scan: captures logs, secrets and database dumps of every test server, and
    // searches them for every secret after the run (test/secrets/leak-scan.global.ts).
    // One PGlite image per run for in-memory test servers instead of initdb per server
    // (test/helpers/pglite-image.ts).
    // On PostgreSQL, the test schemas are dropped after the run (test/helpers/pg-schemas.global.ts).
    globalSetup: ['test/secrets/leak-scan.global.ts', 'test/helpers/pglite-image.global.ts', 'test/helpers/pg-schemas.global.ts'],
  },
});
