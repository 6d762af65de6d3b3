import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { childEnv } from './env.js';

/**
 * Finds the `byo-server` entry point: the installed package next to the CLI (its built
 * `dist/main.js`), else a `byo-server` executable on PATH.
 */
export function locateServer(): { command: string; args: string[] } | null {
  try {
    const index = createRequire(import.meta.url).resolve('byo-server');
    const main = join(dirname(index), 'main.js');
    if (existsSync(main)) return { command: process.execPath, args: [main] };
  } catch {
    /* not installed next to the CLI */
  }
  const pathDirs = (childEnv({}).PATH ?? '').split(process.platform === 'win32' ? ';' : ':');
  for (const dir of pathDirs) {
    const bin = join(dir, process.platform === 'win32' ? 'byo-server.cmd' : 'byo-server');
    if (dir && existsSync(bin)) return { command: bin, args: [] };
  }
  return null;
}

/** Runs `byo-server <subcommand>` with inherited stdio, forwarding SIGINT/SIGTERM; resolves to its exit code. */
export function runServer(subcommand: 'start' | 'migrate', env: Record<string, string | undefined>): Promise<number> {
  const found = locateServer();
  if (!found) return Promise.resolve(-1);
  return new Promise((resolve, reject) => {
    const child = spawn(found.command, [...found.args, subcommand], { stdio: 'inherit', env: childEnv(env) });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}
