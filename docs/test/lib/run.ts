import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { runInBrowser } from './browser.js';
import { matchOutput } from './match.js';
import type { TestBlock } from './markdown.js';

/** Where snippets run: inside the docs package, so `import 'byo-sdk'` & co. resolve. */
export const WORK_ROOT = new URL('../.work/', import.meta.url).pathname;

export interface DocContext {
  /** The BYO server, as the reader's `http://localhost:3000`. */
  url: string;
  publishableKey: string;
  secretKey: string;
  adminToken: string;
  /** Lazily started Chromium, for `browser` blocks. */
  browser: () => Promise<Browser>;
  /** More environment for the blocks (a webhook secret the test registered...). */
  env?: Record<string, string>;
  /** Code run in the page after a browser block, to check what it did (its console.log lines join the output). */
  browserCheck?: string;
  /** Called once every block has run and background ones are ready, before their output is checked. */
  afterBlocks?: () => Promise<void>;
}

const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const SCRIPT = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'mts']);

/** The reader's placeholders and the values the test puts in their place. */
export function substitute(code: string, ctx: DocContext): string {
  return code
    .replaceAll('http://localhost:3000', ctx.url)
    .replaceAll('http://127.0.0.1:3000', ctx.url)
    .replaceAll('byo_pk_test_...', ctx.publishableKey)
    .replaceAll('byo_sk_test_...', ctx.secretKey);
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Background {
  block: TestBlock;
  child: ChildProcess;
  result: Result;
  exited: Promise<void>;
}

/**
 * Runs a document's test blocks in order, as one terminal session: `export`s made by a shell
 * block are seen by the blocks after it. Throws with the file, line and output on failure.
 */
export async function runDocument(file: string, blocks: TestBlock[], ctx: DocContext): Promise<void> {
  const work = join(WORK_ROOT, file.replace(/[^A-Za-z0-9.-]+/g, '_'));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    BYO_BASE_URL: ctx.url,
    BYO_PUBLISHABLE_KEY: ctx.publishableKey,
    BYO_SECRET_KEY: ctx.secretKey,
    BYO_ADMIN_TOKEN: ctx.adminToken,
    ...ctx.env,
  };
  const background: Background[] = [];
  const where = (b: TestBlock) => `${file}:${b.line} (\`\`\`${b.lang})`;
  try {
    for (const block of blocks) {
      if (block.flags.has('server')) continue; // its settings were applied to the server
      const code = substitute(block.code, ctx);
      const timeout = Number(block.options.timeout ?? 30_000);
      if (block.flags.has('browser')) {
        const page = block.lang === 'html' ? splitHtml(code) : { script: code, body: '' };
        if (!page || (!SCRIPT.has(block.lang) && block.lang !== 'html'))
          throw new Error(`${where(block)}: browser blocks must be JavaScript, TypeScript, or HTML with one module script`);
        const r = await runInBrowser(await ctx.browser(), page.script, work, `block-${block.line}`, timeout, {
          body: page.body,
          check: ctx.browserCheck,
        });
        check(block, r, where(block));
        continue;
      }
      const cmd = command(block, code, work, env);
      if (!cmd) throw new Error(`${where(block)}: no runner for language "${block.lang}"`);
      const child = spawn(cmd.bin, cmd.args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const result: Result = { code: null, stdout: '', stderr: '' };
      child.stdout?.on('data', (d: Buffer) => (result.stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (result.stderr += d.toString()));
      const exited = new Promise<void>((resolve) =>
        child.on('close', (c, signal) => {
          result.code = c ?? (signal ? 128 : null);
          resolve();
        }),
      );
      if (block.flags.has('background')) {
        background.push({ block, child, result, exited });
        const ready = block.options.ready;
        if (ready) await until(() => result.stdout.includes(ready) || result.code !== null, timeout);
        if (result.code !== null || (ready && !result.stdout.includes(ready)))
          throw new Error(`${where(block)}: the background process did not print "${ready}"\n${show(result)}`);
        continue;
      }
      const timer = setTimeout(() => killGroup(child), timeout);
      await exited;
      clearTimeout(timer);
      check(block, result, where(block));
      if (cmd.envFile) Object.assign(env, exportedEnv(cmd.envFile, env));
    }
    await ctx.afterBlocks?.();
    // Background processes (a webhook receiver...) must have printed what the docs show.
    for (const bg of background) {
      const exp = bg.block.expected;
      const timeout = Number(bg.block.options.timeout ?? 30_000);
      if (exp) await until(() => matchOutput(exp.lang, exp.code, bg.result.stdout) === null || bg.result.code !== null, timeout);
      const crashed = bg.result.code !== null && bg.result.code !== Number(bg.block.options.exit ?? 0);
      if (crashed) throw new Error(`${where(bg.block)}: the background process exited with ${bg.result.code}\n${show(bg.result)}`);
      if (exp) {
        const problem = matchOutput(exp.lang, exp.code, bg.result.stdout);
        if (problem) throw new Error(`${where(bg.block)}: ${problem}\n${show(bg.result)}`);
      }
    }
  } finally {
    for (const bg of background) killGroup(bg.child);
    await Promise.all(background.map((b) => Promise.race([b.exited, new Promise((r) => setTimeout(r, 5000))])));
  }
}

function command(
  block: TestBlock,
  code: string,
  work: string,
  env: Record<string, string>,
): { bin: string; args: string[]; envFile?: string } | null {
  const base = join(work, `block-${block.line}`);
  if (SHELL.has(block.lang)) {
    // `console` blocks show a prompt: keep the commands, drop the shown output.
    const script =
      block.lang === 'console'
        ? code
            .split('\n')
            .filter((l) => l.startsWith('$ '))
            .map((l) => l.slice(2))
            .join('\n')
        : code;
    writeFileSync(`${base}.sh`, `${script}\n`);
    const envFile = `${base}.env`;
    rmSync(envFile, { force: true });
    // Sourced, so `export`s survive into the env dump that the next blocks start from.
    const wrapper = 'set -eo pipefail; source "$1"; env -0 > "$2"';
    return { bin: 'bash', args: ['-c', wrapper, 'byo-docs', `${base}.sh`, envFile], envFile };
  }
  if (SCRIPT.has(block.lang)) {
    const js = block.lang === 'js' || block.lang === 'javascript' || block.lang === 'mjs';
    // A JavaScript snippet written for CommonJS (require, no import) runs as one, as Node would run it in a project without "type": "module".
    const commonJs = js && block.lang !== 'mjs' && /\brequire\(/.test(code) && !/^\s*import\s/m.test(code);
    const ext = commonJs ? 'cjs' : js ? 'mjs' : 'mts';
    writeFileSync(`${base}.${ext}`, `${code}\n`);
    void env;
    return { bin: process.execPath, args: ['--import', 'tsx', `${base}.${ext}`] };
  }
  return null;
}

/** An HTML snippet: its one `<script type="module">` is bundled, the rest is the page's body. */
function splitHtml(html: string): { script: string; body: string } | null {
  const scripts = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)];
  if (scripts.length !== 1) return null;
  return { script: scripts[0]?.[1] ?? '', body: html.replace(scripts[0]?.[0] ?? '', '').trim() };
}

function exportedEnv(file: string, before: Record<string, string>): Record<string, string> {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const k = entry.slice(0, eq);
    const v = entry.slice(eq + 1);
    if (['PWD', 'OLDPWD', 'SHLVL', '_'].includes(k) || before[k] === v) continue;
    out[k] = v;
  }
  return out;
}

function check(block: TestBlock, r: Result, where: string): void {
  const want = Number(block.options.exit ?? 0);
  if (r.code !== want) throw new Error(`${where}: exited with ${r.code}, expected ${want}\n${show(r)}`);
  if (block.expected) {
    const problem = matchOutput(block.expected.lang, block.expected.code, r.stdout);
    if (problem) throw new Error(`${where}: ${problem}\n${show(r)}`);
  }
}

function show(r: Result): string {
  return `--- stdout:\n${r.stdout.slice(-4000)}\n--- stderr:\n${r.stderr.slice(-4000)}`;
}

function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond() && Date.now() - start < timeoutMs) await new Promise((r) => setTimeout(r, 50));
}

/** `server` blocks show how to start BYO; their `VAR=value` prefixes configure the test server. */
export function serverEnv(blocks: TestBlock[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const b of blocks.filter((x) => x.flags.has('server'))) {
    for (const line of b.code.split('\n')) {
      const m = /^((?:[A-Z_][A-Z0-9_]*=\S+\s+)+)pnpm\b/.exec(line.trim());
      for (const a of m?.[1]?.trim().split(/\s+/) ?? []) {
        const [k, ...v] = a.split('=');
        env[k as string] = v.join('=').replace(/^['"]|['"]$/g, '');
      }
    }
  }
  return env;
}
