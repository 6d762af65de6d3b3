import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { startInMemoryDatabasesFrom } from '../../src/db/database.js';

/**
 * In-memory test servers start from one PGlite image instead of each running initdb: initdb
 * takes 4-10 s on the 2-CPU CI machine, loading the image about 1 s, and a run starts more
 * than a hundred servers. The image is the cluster right after initdb (no migrations: every
 * server still migrates its own database). The global setup (pglite-image.global.ts) makes
 * it once per vitest run and names the file in BYO_PGLITE_IMAGE; without it each worker
 * process makes its own on first use. BYO_PGLITE_IMAGE=off turns it off (initdb per server).
 */

/** A fresh cluster, right after initdb, as a data-directory tarball. */
export async function makePgliteImage(): Promise<Blob> {
  const pg = new PGlite();
  try {
    return await pg.dumpDataDir('none');
  } finally {
    await pg.close();
  }
}

let ready: Promise<void> | undefined;

/** Makes in-memory embedded databases of this process start from the image (once per process). */
export function useInMemoryImage(): Promise<void> {
  ready ??= (async () => {
    const file = process.env.BYO_PGLITE_IMAGE;
    if (file === 'off') return;
    startInMemoryDatabasesFrom(file ? new Blob([readFileSync(file)]) : await makePgliteImage());
  })();
  return ready;
}
