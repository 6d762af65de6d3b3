// The SDK's portability claim, checked for real: the built package runs on Node 18 (ESM and
// CJS), Bun (ESM and CJS), Deno (ESM) and Vercel's edge-runtime (a VM with only web APIs)
// against a real BYO server. The runtimes come from the npm registry (test/helpers/runtimes.ts)
// and are cached in sdk/.runtimes between runs.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBuiltPackage, ensureBuilt, ensureRuntimes, RUNTIME_VERSIONS, type Runtimes, sdkDir } from './helpers/runtimes.js';
import { SANDBOX_REPLY, startTestServer, type TestProject, type TestServer } from './helpers/server.js';

const run = promisify(execFile);

let server: TestServer;
let project: TestProject;
let rt: Runtimes;
let dir: string;

beforeAll(async () => {
  [server, rt, dir] = await Promise.all([startTestServer(), ensureRuntimes(), mkdtemp(join(tmpdir(), 'byo-sdk-runtimes-'))]);
  project = await server.createProject();
  await ensureBuilt();
  await copyBuiltPackage(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { 'byo-sdk': '*' } }));
  await writeFile(join(dir, 'smoke.mjs'), ESM);
  await writeFile(join(dir, 'smoke.cjs'), CJS);
}, 900_000);
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The same steps on every runtime, written once in plain JavaScript. `sdk` is the imported or
 * required package (or the edge bundle's global); `options` go to `new BYOK`.
 */
const MAIN = `
async function main(sdk, options, refId, format) {
  const { BYOK, BYOKError, ConflictError, WebhookVerificationError, webhooks } = sdk;
  const g = globalThis;
  const runtime =
    typeof g.EdgeRuntime === 'string' ? g.EdgeRuntime
    : g.Bun ? 'bun ' + g.Bun.version
    : g.Deno ? 'deno ' + g.Deno.version.deno
    : 'node ' + g.process.versions.node;
  const byok = new BYOK(options);
  const connected = await byok.keys.connect({ provider: 'openai', refId, providerKey: 'sk-byo-test-valid' });
  await byok.keys.connect({ provider: 'anthropic', refId, providerKey: 'sk-byo-test-valid' });

  const openai = byok.openai({ refId });
  const messages = [{ role: 'user', content: 'Say hello' }];
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });

  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
  let streamed = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    streamed += (chunk.choices[0] && chunk.choices[0].delta.content) || '';
  }

  const listed = [];
  for await (const key of byok.keys.list({ refId, limit: 1 })) listed.push(key.provider);

  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = JSON.stringify({ id: 'evt_rt_1', type: 'webhook.test', createdAt: new Date().toISOString(), mode: 'test', data: {} });
  const headers = await webhooks.generateTestHeaders({ payload: body, secret });
  const event = await byok.webhooks.verify(body, headers, secret);
  let tampered = 'accepted';
  try {
    await webhooks.verify(body.replace('webhook.test', 'key.revoked'), headers, secret);
  } catch (e) {
    tampered = e instanceof WebhookVerificationError && e instanceof BYOKError ? 'WebhookVerificationError' : String(e);
  }

  await byok.keys.revoke({ provider: 'openai', refId });
  let error = 'none';
  try {
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
  } catch (e) {
    error = {
      conflict: e instanceof ConflictError,
      byok: e instanceof BYOKError,
      statusCode: e.statusCode,
      code: e.code,
      requestId: typeof e.requestId,
    };
  }
  return {
    runtime,
    format,
    connected: connected.status,
    completion: completion.choices[0].message.content,
    streamed,
    chunks,
    listed: listed.sort(),
    event: event.type,
    tampered,
    error,
  };
}
`;

const envRead = 'const env = (k) => (globalThis.Deno ? globalThis.Deno.env.get(k) : process.env[k]);';
const ESM = `import * as sdk from 'byo-sdk';\n${MAIN}\n${envRead}\nconsole.log(JSON.stringify(await main(sdk, {}, env('SMOKE_REF_ID'), 'esm')));\n`;
const CJS = `const sdk = require('byo-sdk');\n${MAIN}\n${envRead}
main(sdk, {}, env('SMOKE_REF_ID'), 'cjs').then(
  (r) => console.log(JSON.stringify(r)),
  (e) => { console.error(e); process.exit(1); },
);\n`;

function expected(runtime: string, format: string) {
  return {
    runtime,
    format,
    connected: 'active',
    completion: SANDBOX_REPLY,
    streamed: SANDBOX_REPLY,
    chunks: expect.any(Number),
    listed: ['anthropic', 'openai'],
    event: 'webhook.test',
    tampered: 'WebhookVerificationError',
    error: { conflict: true, byok: true, statusCode: 409, code: 'key_revoked', requestId: 'string' },
  };
}

/** The part of esbuild's API used here (esbuild is tsup's dependency, not the SDK's). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ metafile: { inputs: Record<string, unknown> }; outputFiles: { text: string }[] }>;
}

/** Runs a smoke script in a child process with a clean environment (no NODE_OPTIONS from vitest). */
async function smoke(cmd: string, args: string[], refId: string): Promise<Record<string, unknown>> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    NO_COLOR: '1',
    BYO_SECRET_KEY: project.skTest,
    BYO_BASE_URL: server.url,
    SMOKE_REF_ID: refId,
    DENO_DIR: join(dir, '.deno'),
    DENO_NO_UPDATE_CHECK: '1',
  };
  const res = await run(cmd, args, { cwd: dir, env, timeout: 60_000 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\nstdout: ${e.stdout}\nstderr: ${e.stderr}`);
  });
  const result = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  expect(result.chunks).toBeGreaterThan(1);
  return result;
}

function binary(which: 'node18' | 'bun' | 'deno', skip: (note: string) => void): string {
  const b = rt[which];
  if (typeof b === 'string') return b;
  skip(b.skip);
  throw new Error(b.skip);
}

describe('the built SDK on other runtimes', () => {
  it(`Node ${RUNTIME_VERSIONS.node18}: import and require`, async (ctx) => {
    const node = binary('node18', (n) => ctx.skip(n));
    const esm = await smoke(node, ['smoke.mjs'], 'node18_esm');
    expect(esm).toEqual(expected(`node ${RUNTIME_VERSIONS.node18}`, 'esm'));
    const cjs = await smoke(node, ['smoke.cjs'], 'node18_cjs');
    expect(cjs).toEqual(expected(`node ${RUNTIME_VERSIONS.node18}`, 'cjs'));
  });

  it(`Bun ${RUNTIME_VERSIONS.bun}: import and require`, async (ctx) => {
    const bun = binary('bun', (n) => ctx.skip(n));
    const esm = await smoke(bun, ['--no-install', 'smoke.mjs'], 'bun_esm');
    expect(esm).toEqual(expected(`bun ${RUNTIME_VERSIONS.bun}`, 'esm'));
    const cjs = await smoke(bun, ['--no-install', 'smoke.cjs'], 'bun_cjs');
    expect(cjs).toEqual(expected(`bun ${RUNTIME_VERSIONS.bun}`, 'cjs'));
  });

  it(`Deno ${RUNTIME_VERSIONS.deno}: import, with network limited to the server and env limited to BYO's variables`, async (ctx) => {
    const deno = binary('deno', (n) => ctx.skip(n));
    const host = new URL(server.url).host;
    const esm = await smoke(
      deno,
      [
        'run',
        '--no-prompt',
        '--no-lock',
        '--node-modules-dir=manual',
        `--allow-net=${host}`,
        '--allow-env=BYO_SECRET_KEY,BYO_BASE_URL,SMOKE_REF_ID',
        '--allow-read=.',
        'smoke.mjs',
      ],
      'deno_esm',
    );
    expect(esm).toEqual(expected(`deno ${RUNTIME_VERSIONS.deno}`, 'esm'));
  });

  it(`edge-runtime ${RUNTIME_VERSIONS.edgeRuntime}: the main ESM entry, bundled for the browser, in a VM with only web APIs`, async () => {
    // Static check: the main entry imports nothing from Node (the one lazy `node:crypto` import for
    // Node 18 is built from a variable, so neither bundlers nor this pattern see it).
    const entry = await readFile(join(sdkDir, 'dist', 'index.js'), 'utf8');
    expect(entry).not.toMatch(/(from|import|require)\s*\(?\s*['"]node:/);
    expect(entry).not.toMatch(
      /(from|import\s*\(|require\s*\()\s*['"](assert|buffer|child_process|crypto|events|fs|http|https|net|os|path|process|stream|tls|url|util|zlib)(\/[\w/]*)?['"]/,
    );
    expect(entry).not.toMatch(/^import\s/m); // no imports at all: the entry is self-contained

    // esbuild (the one tsup uses) with platform "browser" refuses Node built-ins.
    const esbuild = createRequire(createRequire(import.meta.url).resolve('tsup'))('esbuild') as Esbuild;
    const bundle = await esbuild.build({
      entryPoints: [join(sdkDir, 'dist', 'index.js')],
      bundle: true,
      format: 'iife',
      globalName: '__byo',
      platform: 'browser',
      target: 'es2020',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(bundle.metafile.inputs)).toEqual(['dist/index.js'].map((f) => expect.stringMatching(new RegExp(`${f}$`))));
    const code = bundle.outputFiles[0]!.text;

    const { EdgeRuntime } = (await import(pathToFileURL(rt.edgeRuntime).href)) as {
      EdgeRuntime: new () => { evaluate<T>(code: string): T };
    };
    const vm = new EdgeRuntime();
    const options = JSON.stringify({ apiKey: project.skTest, baseURL: server.url });
    const out = await vm.evaluate<Promise<string>>(
      `${code}\n${MAIN}\n(async () => JSON.stringify({
        globals: { process: typeof process, require: typeof require, Buffer: typeof Buffer, fetch: typeof fetch },
        result: await main(__byo, ${options}, 'edge_esm', 'esm'),
      }))()`,
    );
    const { globals, result } = JSON.parse(out) as { globals: Record<string, string>; result: Record<string, unknown> };
    expect(globals).toEqual({ process: 'undefined', require: 'undefined', Buffer: 'undefined', fetch: 'function' });
    expect(result).toEqual(expected('edge-runtime', 'esm'));
    expect(result.chunks).toBeGreaterThan(1);
  });
});
