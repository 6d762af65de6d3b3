// Regenerates every generated file and fails if any differs from what is committed.
import { execSync } from 'node:child_process';

execSync('pnpm -r gen', { stdio: 'inherit' });
const diff = execSync(
  'git status --porcelain -- server/openapi.json sdk/src/generated web-components/src/generated cli/src/generated docs/cli.md',
  {
    encoding: 'utf8',
  },
);
if (diff.trim()) {
  console.error(`Generated files are stale; run "pnpm gen" and commit:\n${diff}`);
  process.exit(1);
}
console.log('generated files are current');
