import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePgliteImage } from './pglite-image.js';

/**
 * Vitest global setup: makes the PGlite image in-memory test servers start from, once per run,
 * and hands it to the workers in BYO_PGLITE_IMAGE (see pglite-image.ts). Not on PostgreSQL.
 */
export default async function setup(): Promise<(() => void) | undefined> {
  if (process.env.DATABASE_URL || process.env.BYO_PGLITE_IMAGE) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'byo-pglite-image-'));
  const file = join(dir, 'image.tar');
  writeFileSync(file, Buffer.from(await (await makePgliteImage()).arrayBuffer()));
  process.env.BYO_PGLITE_IMAGE = file;
  return () => {
    delete process.env.BYO_PGLITE_IMAGE;
    rmSync(dir, { recursive: true, force: true });
  };
}
