import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchemaNow } from './server.js';

/**
 * Vitest global setup on PostgreSQL: test files list the schemas they are done with
 * (dropSchema in server.ts) and they are dropped here once every file has finished, so no
 * schema disappears while another file's server migrates and files can run two at a time.
 */
export default function setup(): (() => Promise<void>) | undefined {
  if (!process.env.DATABASE_URL || process.env.BYO_TEST_SCHEMAS_FILE) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'byo-test-schemas-'));
  const file = join(dir, 'schemas');
  writeFileSync(file, '');
  process.env.BYO_TEST_SCHEMAS_FILE = file;
  return async () => {
    delete process.env.BYO_TEST_SCHEMAS_FILE;
    const schemas = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
    for (const schema of schemas) await dropSchemaNow(schema);
    rmSync(dir, { recursive: true, force: true });
  };
}
