// Other JavaScript runtimes for the SDK's portability test, all taken from the npm registry
// (no other download): Node 18 (`node-<os>-<arch>`, the binary package that the `node` npm
// package installs), Bun (`bun`, binary in its `@oven/bun-*` optional dependency), Deno (`deno`,
// binary in its `@deno/*` optional dependency) and Vercel's `edge-runtime` (a VM with only web
// APIs). Installed once into sdk/.runtimes/<hash of the pinned list>/ (gitignored, outside the
// pnpm lockfile) and reused by later runs.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const sdkDir = fileURLToPath(new URL('../..', import.meta.url));

/** Exact versions under test (docs/sdk.md "Runtimes" lists the same). */
export const RUNTIME_VERSIONS = { node18: '18.20.8', bun: '1.4.5', deno: '2.9.6', edgeRuntime: '4.0.1' } as const;

export interface Runtimes {
  dir: string;
  /** Absolute paths of the binaries, or why the runtime is not available on this machine. */
  node18: string | { skip: string };
  bun: string | { skip: string };
  deno: string | { skip: string };
  /** Absolute path of edge-runtime's entry (import it from Node). */
  edgeRuntime: string;
}

function hasAvx2(): boolean {
  try {
    return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return true;
  }
}

function dependencies(): Record<string, string> {
  const v = RUNTIME_VERSIONS;
  const deps: Record<string, string> = { bun: v.bun, deno: v.deno, 'edge-runtime': v.edgeRuntime };
  // The `node` npm package only runs `npm install node-<os>-<arch>@<version>` in a preinstall
  // script; depending on that package directly gives the same binary without running scripts.
  const nodeArch = process.arch === 'x64' || process.arch === 'arm64' ? process.arch : undefined;
  if ((process.platform === 'linux' || process.platform === 'darwin') && nodeArch) deps[`node-${process.platform}-${nodeArch}`] = v.node18;
  // Bun's postinstall picks the "baseline" build on x64 CPUs without AVX2; scripts are off here.
  if (process.platform === 'linux' && process.arch === 'x64' && !hasAvx2()) deps['@oven/bun-linux-x64-baseline'] = v.bun;
  return deps;
}

/** Installs the pinned runtimes from npm unless this exact set is already in sdk/.runtimes. */
export async function ensureRuntimes(): Promise<Runtimes> {
  const deps = dependencies();
  const key = createHash('sha256')
    .update(JSON.stringify({ deps, platform: process.platform, arch: process.arch }))
    .digest('hex')
    .slice(0, 12);
  const root = join(sdkDir, '.runtimes');
  const dir = join(root, key);
  if (!existsSync(join(dir, 'installed.json'))) {
    await mkdir(root, { recursive: true });
    // Install beside the final directory, then rename: an interrupted install is never reused.
    const tmp = join(root, `.tmp-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    try {
      await writeFile(join(tmp, 'package.json'), JSON.stringify({ name: 'byo-sdk-test-runtimes', private: true, dependencies: deps }));
      // --ignore-scripts: bun's and deno's postinstall would only re-link the binary that npm
      // already installed from their optional dependencies (and could try GitHub otherwise).
      await run('npm', ['install', '--ignore-scripts', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: tmp,
        timeout: 600_000,
        maxBuffer: 16 << 20,
      }).catch((e: { stderr?: string; message: string }) => {
        throw new Error(`Installing the test runtimes from npm failed (${Object.entries(deps).join(', ')}): ${e.stderr || e.message}`);
      });
      await writeFile(join(tmp, 'installed.json'), JSON.stringify({ deps, at: new Date().toISOString() }));
      await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
        // Another process finished the same install first.
        if (!existsSync(join(dir, 'installed.json'))) throw e;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const nm = join(dir, 'node_modules');
  const node = Object.keys(deps).find((d) => d.startsWith('node-'));
  return {
    dir,
    node18: node
      ? await executable(join(nm, node, 'bin', 'node'), 'Node 18')
      : { skip: `no node binary package on npm for ${process.platform}-${process.arch}` },
    bun: await findBinary(
      join(nm, '@oven'),
      (pkg) => join(pkg, 'bin', 'bun'),
      'Bun',
      deps['@oven/bun-linux-x64-baseline'] ? /baseline/ : /./,
    ),
    deno: await findBinary(join(nm, '@deno'), (pkg) => join(pkg, 'deno'), 'Deno', /./),
    edgeRuntime: join(nm, 'edge-runtime', 'dist', 'index.js'),
  };
}

async function executable(path: string, name: string): Promise<string | { skip: string }> {
  try {
    await stat(path);
    return path;
  } catch {
    return { skip: `${name}: npm installed no binary for ${process.platform}-${process.arch} (${path} missing)` };
  }
}

/** The platform package npm picked from the launcher's optional dependencies (os/cpu/libc). */
async function findBinary(scope: string, bin: (pkg: string) => string, name: string, prefer: RegExp): Promise<string | { skip: string }> {
  const pkgs = await readdir(scope).catch(() => [] as string[]);
  for (const p of pkgs.filter((p) => prefer.test(p))) {
    const path = bin(join(scope, p));
    if (existsSync(path)) return path;
  }
  return { skip: `${name}: npm installed no platform binary for ${process.platform}-${process.arch} (nothing usable in ${scope})` };
}

/** Every file the SDK publishes that the runtimes load (package.json and dist/). */
export async function copyBuiltPackage(into: string): Promise<void> {
  const target = join(into, 'node_modules', 'byo-sdk');
  await mkdir(join(target, 'dist'), { recursive: true });
  await writeFile(join(target, 'package.json'), await readFile(join(sdkDir, 'package.json')));
  for (const f of await readdir(join(sdkDir, 'dist'))) await writeFile(join(target, 'dist', f), await readFile(join(sdkDir, 'dist', f)));
}

async function newest(path: string): Promise<number> {
  const st = await stat(path);
  if (!st.isDirectory()) return st.mtimeMs;
  const times = await Promise.all((await readdir(path)).map((f) => newest(join(path, f))));
  return Math.max(st.mtimeMs, ...times);
}

/** CI builds before testing; rebuild only when dist/ is missing or older than the sources. */
export async function ensureBuilt(): Promise<void> {
  const built = await Promise.all(
    ['index.js', 'index.cjs'].map((f) =>
      stat(join(sdkDir, 'dist', f)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  );
  const sources = Math.max(
    ...(await Promise.all(['src', 'package.json', 'tsup.config.ts', 'tsconfig.build.json'].map((p) => newest(join(sdkDir, p))))),
  );
  if (Math.min(...built) < sources) await run('pnpm', ['run', 'build'], { cwd: sdkDir });
}
