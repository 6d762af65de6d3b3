import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SANDBOX_REPLY, startTestServer, type TestServer } from './helpers/server.js';

// Every ```ts block of docs/sdk.md, run verbatim (in document order) against a real server
// in test mode, and type-checked. `<!-- snippet: name.ts -->` before a block names its file,
// so a later block can import it.

const sdkDir = fileURLToPath(new URL('..', import.meta.url));
const docPath = join(sdkDir, '..', 'docs', 'sdk.md');
// Inside the package (so imports resolve from its node_modules), one directory per run.
let outDir = '';
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Snippet {
  file: string;
  code: string;
  title: string;
}

function extract(md: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = md.split('\n');
  let name: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- snippet: (\S+) -->$/.exec(lines[i]!);
    if (marker) name = marker[1];
    if (lines[i] !== '```ts') continue;
    const body: string[] = [];
    for (i++; lines[i] !== '```'; i++) body.push(lines[i]!);
    const n = out.length + 1;
    const file = name?.endsWith('.ts') ? name : `snippet-${String(n).padStart(2, '0')}.ts`;
    out.push({
      file,
      code: `${body.join('\n')}\n`,
      title: `${n} (${file}): ${body
        .find((l) => !l.startsWith('import') && l.trim())
        ?.trim()
        .slice(0, 60)}`,
    });
    name = undefined;
  }
  return out;
}

const snippets = extract(await readFile(docPath, 'utf8'));
const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

let server: TestServer;
let sk: string;
beforeAll(async () => {
  await mkdir(join(sdkDir, '.tmp'), { recursive: true });
  outDir = await mkdtemp(join(sdkDir, '.tmp', 'snippets-'));
  for (const s of snippets) await writeFile(join(outDir, s.file), s.code);
  // Hosts named in the snippets are allow-listed so that nothing resolves them over the network.
  server = await startTestServer({ BYO_ALLOWED_UPSTREAM_HOSTS: 'openrouter.ai,app.example.com' });
  const project = await server.createProject();
  sk = project.skTest;
  vi.stubEnv('BYO_SECRET_KEY', sk);
  vi.stubEnv('BYO_BASE_URL', server.url);
  vi.stubEnv('BYO_WEBHOOK_SECRET', WEBHOOK_SECRET);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await server?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** What each snippet must print, beyond running without an error. */
const EXPECT: Record<number, (out: string) => void> = {
  1: (out) => expect(out).toContain(SANDBOX_REPLY),
  2: (out) => expect(out).toContain('http://localhost:3000'),
  3: (out) => expect(out).toContain('gpt-4o-mini'),
  4: (out) => expect(out).toContain(SANDBOX_REPLY),
  5: (out) => expect(out).toContain(SANDBOX_REPLY),
  6: (out) => expect(out.split(SANDBOX_REPLY).length - 1).toBe(4),
  7: (out) => expect(out).toContain('stopped'),
};

describe('docs/sdk.md', () => {
  it('has snippets', () => {
    expect(snippets.length).toBeGreaterThan(15);
  });

  for (const [i, s] of snippets.entries()) {
    it(`snippet ${s.title}`, async () => {
      let out = '';
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        out += `${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`;
      });
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out += String(chunk);
        return true;
      });
      try {
        await import(pathToFileURL(join(outDir, s.file)).href);
      } finally {
        log.mockRestore();
        write.mockRestore();
      }
      EXPECT[i + 1]?.(out);
      if (s.code.includes('webhooks.endpoints.create')) {
        // Created for the docs only: remove it so that no delivery is attempted to its host.
        const list = await server.request('GET', '/v1/webhooks/endpoints', { key: sk });
        for (const ep of list.body.data) await server.request('DELETE', `/v1/webhooks/endpoints/${ep.id}`, { key: sk });
      }
      if (s.code.includes('generateTestHeaders')) {
        expect(out).toMatch(/^200$/m);
        expect(out).toMatch(/^400 No signature matches/m);
      }
      if (s.code.includes('customer_without_a_key')) expect(out).toContain('key_not_found');
    });
  }

  it('every snippet type-checks', async () => {
    await writeFile(
      join(outDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noUncheckedIndexedAccess: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2023', 'dom', 'dom.iterable'],
          types: ['node'],
          noEmit: true,
          skipLibCheck: true,
          paths: { 'byo-sdk': [join(sdkDir, 'src', 'index.ts')] },
        },
        include: ['*.ts'],
      }),
    );
    const r = await promisify(execFile)('node', [tsc, '-p', join(outDir, 'tsconfig.json')], { cwd: outDir }).then(
      (x) => x.stdout,
      (e: { stdout: string }) => e.stdout,
    );
    expect(r).toBe('');
  }, 120_000);
});
