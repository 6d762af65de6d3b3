import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './static-server.js';

/** The browser tests run the BUILT package: `pnpm --filter byo-connect test` builds first. */
export default function setup(): void {
  for (const file of ['index.js', 'badge.js', 'form.js', 'client.js', 'byo-connect.global.js']) {
    if (!existsSync(join(PACKAGE_ROOT, 'dist', file)))
      throw new Error(`dist/${file} is missing: run "pnpm --filter byo-connect build" first`);
  }
}
