import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
const sdkDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

let server: TestServer;
let project: TestProject;
let dir: string;

beforeAll(async () => {
  [server, dir] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), 'byo-sdk-consumer-'))]);
  project = await server.createProject();
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ESM = `
import { BYOK, BYOKError, NotFoundError, webhooks } from 'byo-sdk';
const byok = new BYOK();
const connected = await byok.keys.connect({ provider: 'openai', refId: 'esm_1', providerKey: 'sk-byo-test-valid' });
let notFound = false;
try { await byok.keys.get({ provider: 'google', refId: 'esm_1' }); } catch (e) { notFound = e instanceof NotFoundError && e instanceof BYOKError; }
const body = JSON.stringify({ id: 'evt_1', type: 'webhook.test', createdAt: '2026-01-01T00:00:00.000Z', mode: 'test', data: {} });
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const event = await webhooks.verify(body, await webhooks.generateTestHeaders({ payload: body, secret }), secret);
console.log(JSON.stringify({ status: connected.status, notFound, event: event.type, baseURL: byok.openai({ refId: 'x' }).baseURL }));
`;

const CJS = `
const { BYOK, ValidationError } = require('byo-sdk');
(async () => {
  const byok = new BYOK();
  const page = await byok.keys.list({ refId: 'esm_1' });
  let publishable = '';
  try { new BYOK({ apiKey: 'byo_pk_test_x' }); } catch (e) { publishable = e.code; }
  console.log(JSON.stringify({ keys: page.data.map((k) => k.refId), publishable, isClass: typeof ValidationError === 'function' }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

const TS_ESM = `
import { BYOK, type ChatCompletion, type KeyMetadata, type Stream, type ChatCompletionChunk } from 'byo-sdk';
const byok = new BYOK({ apiKey: 'byo_sk_test_x' });
export async function f(): Promise<[ChatCompletion, Stream<ChatCompletionChunk>, KeyMetadata]> {
  const openai = byok.openai({ refId: 'r' });
  const a = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  const b = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
  const c = await byok.keys.get({ provider: 'openai', refId: 'r' });
  return [a, b, c];
}
`;
const TS_CJS = `
import { BYOK, type MessageStreamEvent } from 'byo-sdk';
export async function g(): Promise<MessageStreamEvent[]> {
  const out: MessageStreamEvent[] = [];
  const s = await new BYOK({ apiKey: 'byo_sk_test_x' }).anthropic({ refId: 'r' }).messages.create({ model: 'm', max_tokens: 1, messages: [], stream: true });
  for await (const ev of s) out.push(ev);
  return out;
}
`;

describe('the published package', () => {
  it('packs, installs into a fresh project, and works through import and require, with types for both', async () => {
    // CI builds before testing; rebuild only when dist/ is missing or older than the sources.
    if (await distIsStale()) await run('pnpm', ['run', 'build'], { cwd: sdkDir });
    await run('pnpm', ['pack', '--pack-destination', dir], { cwd: sdkDir });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^byo-sdk-.*\.tgz$/);

    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    await run('npm', ['install', `./${tarball}`, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir });
    const pkg = join(dir, 'node_modules', 'byo-sdk');
    const files = await readdir(join(pkg, 'dist'));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']));
    expect(JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')).dependencies ?? {}).toEqual({});

    // Fetch-only main entry: no static Node built-in imports; types do not point at the server.
    for (const f of ['index.js', 'index.cjs']) {
      const code = await readFile(join(pkg, 'dist', f), 'utf8');
      expect(code).not.toMatch(/from ['"]node:|require\(['"]node:|from ['"](crypto|http|https|fs|stream|buffer)['"]/);
    }
    for (const f of ['index.d.ts', 'index.d.cts']) expect(await readFile(join(pkg, 'dist', f), 'utf8')).not.toContain('byo-server');

    const env = { ...process.env, BYO_SECRET_KEY: project.skTest, BYO_BASE_URL: server.url };
    await writeFile(join(dir, 'esm.mjs'), ESM);
    await writeFile(join(dir, 'cjs.cjs'), CJS);
    const esm = JSON.parse((await run('node', ['esm.mjs'], { cwd: dir, env })).stdout);
    expect(esm).toEqual({ status: 'active', notFound: true, event: 'webhook.test', baseURL: `${server.url}/v1/proxy/openai` });
    const cjs = JSON.parse((await run('node', ['cjs.cjs'], { cwd: dir, env })).stdout);
    expect(cjs).toEqual({ keys: ['esm_1'], publishable: 'publishable_key', isClass: true });

    await writeFile(join(dir, 'use.mts'), TS_ESM);
    await writeFile(join(dir, 'use.cts'), TS_CJS);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          lib: ['es2022', 'dom'],
          types: [],
        },
        files: ['use.mts', 'use.cts'],
      }),
    );
    const tc = await run('node', [tsc, '-p', 'tsconfig.json'], { cwd: dir }).then(
      (r) => r.stdout,
      (e: { stdout: string }) => e.stdout,
    );
    expect(tc).toBe('');
  }, 600_000);
});

async function newest(path: string): Promise<number> {
  const st = await stat(path);
  if (!st.isDirectory()) return st.mtimeMs;
  const times = await Promise.all((await readdir(path)).map((f) => newest(join(path, f))));
  return Math.max(st.mtimeMs, ...times);
}

async function distIsStale(): Promise<boolean> {
  const built = await Promise.all(
    ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].map((f) =>
      stat(join(sdkDir, 'dist', f)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  );
  const sources = Math.max(
    ...(await Promise.all(['src', 'package.json', 'tsup.config.ts', 'tsconfig.build.json'].map((p) => newest(join(sdkDir, p))))),
  );
  return Math.min(...built) < sources;
}
