import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tests run the BUILT binary: rebuild when a source file is newer than the build. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const manifest = join(root, 'oclif.manifest.json');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (!existsSync(manifest) || newest(join(root, 'src')) > statSync(manifest).mtimeMs) {
    execSync('pnpm run build', { cwd: root, stdio: 'inherit' });
  }
}
