import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (the --json envelope). */
  json: any;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

/**
 * A sandbox for CLI runs: its own config dir (XDG_CONFIG_HOME) and HOME, and no BYO_* from
 * the parent environment unless a test passes them.
 */
export class CliSandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'byo-cli-'));
  readonly configHome = join(this.home, 'config');
  constructor(readonly baseEnv: Record<string, string | undefined> = {}) {}

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_CONFIG_HOME: this.configHome,
      NODE_ENV: 'production',
      ...this.baseEnv,
      ...extra,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    return env;
  }

  /** Starts `byo ...args` and returns the child (for tests that signal it). */
  spawn(args: string[], opts: RunOptions = {}): ChildProcess {
    return spawn(process.execPath, [BIN, ...args], { env: this.env(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Runs `byo ...args` to completion (asynchronously: the test server shares this process). */
  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const child = this.spawn(args, opts);
    return collect(child, opts);
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

export function collect(child: ChildProcess, opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`byo timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Splits a rendered table into rows of cells (two or more spaces separate cells). */
export function tableRows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s{2,}/));
}
