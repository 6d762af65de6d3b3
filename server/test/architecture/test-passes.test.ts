import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DATABASE_INDEPENDENT } from '../../../scripts/test-passes.mjs';

/**
 * CI's PostgreSQL pass skips the test files scripts/test-passes.mjs lists as database-independent.
 * A listed file that starts a server or opens a database would lose its PostgreSQL run
 * silently, so each one is checked for the ways the tests reach a database.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** What a test file calls to get a database: the harnesses, the storage, the server itself. */
const REACHES_A_DATABASE =
  /\b(startTestServer|startProxyEnv|startDocsServer|openStorage|startServer|buildApp|migrateToLatest|DATABASE_URL|usingPostgres|new PGlite)\b|main\.[jt]s/;

describe('scripts/test-passes.mjs', () => {
  for (const [pkg, files] of Object.entries(DATABASE_INDEPENDENT)) {
    for (const file of files) {
      it(`${pkg}/${file} exists and reaches no database`, () => {
        const path = join(ROOT, pkg, file);
        expect(existsSync(path), `${pkg}/${file} is listed but missing`).toBe(true);
        expect(readFileSync(path, 'utf8')).not.toMatch(REACHES_A_DATABASE);
      });
    }
  }
});
