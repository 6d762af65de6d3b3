// CI runs `pnpm test` twice: on the embedded PGlite, then with DATABASE_URL on PostgreSQL
// (.ci/run). The second pass sets TEST_DATABASE_PASS=1 and skips the test files below: none of
// them opens a database or starts a server that could use DATABASE_URL (pure units, the docs
// type check, browser tests of static pages, processes that drop DATABASE_URL from their
// environment), so a second run on PostgreSQL would repeat the first one exactly.
// server/test/architecture/test-passes.test.ts keeps this list honest. A new test file runs in
// both passes unless it is added here.

/** Per package (directory from the repository root): test files that never touch a database. */
export const DATABASE_INDEPENDENT = {
  server: [
    'test/architecture/boundaries.test.ts',
    'test/connect-embed/fields.test.ts',
    'test/connect-embed/server-origin.test.ts',
    'test/auth/api-key-format.test.ts',
    'test/server/runtime-flags.test.ts',
    'test/secrets/vault.test.ts',
    'test/proxy/caller-credential.test.ts',
    'test/proxy/hot-histogram.test.ts',
    'test/proxy/key-cache.test.ts',
    'test/proxy/usage-extract.test.ts',
    'test/webhooks/signing.test.ts',
  ],
  sdk: [
    'test/api-md.test.ts',
    'test/client.test.ts',
    'test/keys-refid.test.ts',
    'test/sse.test.ts',
    'test/transport.test.ts',
    'test/webhooks.test.ts',
  ],
  // The CLI sandbox gives `byo` no DATABASE_URL: `byo server start` runs on PGlite in both passes.
  cli: ['test/server.test.ts'],
  'web-components': ['test/badge.test.ts'],
  docs: ['test/reference.test.ts', 'test/runner.test.ts', 'test/typecheck.test.ts'],
  // The demo's start.mjs drops DATABASE_URL: it always runs on its own embedded database.
  'examples/saas-demo': ['test/demo.test.ts'],
};

/** Whether this run is CI's PostgreSQL pass (see above). */
export const databasePass = process.env.TEST_DATABASE_PASS === '1';

/**
 * Vitest `exclude` and `passWithNoTests` for a package: in the database pass, its
 * database-independent files are left out.
 * @param {keyof typeof DATABASE_INDEPENDENT} pkg
 * @param {string[]} defaults vitest's own excludes (configDefaults.exclude)
 */
export function databasePassFilter(pkg, defaults) {
  return databasePass
    ? { exclude: [...defaults, ...DATABASE_INDEPENDENT[pkg]], passWithNoTests: true }
    : { exclude: defaults, passWithNoTests: false };
}
