import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIST = join(PACKAGE_ROOT, 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
};

/**
 * A small static server on 127.0.0.1 for test pages: `/dist/...` is the built package, and
 * `page(path, html)` / `script(path, js)` add files. Reach it as `http://127.0.0.1:<port>`
 * or `http://localhost:<port>`: two different origins for the browser.
 */
export class StaticServer {
  private readonly files = new Map<string, { type: string; body: string | Buffer }>();
  private server: Server | null = null;
  port = 0;

  get url127(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get urlLocalhost(): string {
    return `http://localhost:${this.port}`;
  }

  page(path: string, html: string): void {
    this.files.set(path, { type: TYPES['.html'] as string, body: html });
  }
  script(path: string, js: string): void {
    this.files.set(path, { type: TYPES['.js'] as string, body: js });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = this.files.get(path);
      if (file) {
        res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
        res.end(file.body);
        return;
      }
      if (path.startsWith('/dist/')) {
        const full = normalize(join(DIST, path.slice('/dist/'.length)));
        if (full.startsWith(DIST)) {
          try {
            const body = readFileSync(full);
            res.writeHead(200, { 'content-type': TYPES[extname(full)] ?? 'application/octet-stream' });
            res.end(body);
            return;
          } catch {
            /* 404 below */
          }
        }
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    });
    await new Promise<void>((ok) => this.server?.listen(0, '127.0.0.1', ok));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((ok) => this.server?.close(() => ok()) ?? ok());
  }
}

let resolveDir: string | null = null;

/**
 * Bundles page code the way an app's bundler would: `import ... from 'byo-connect'` resolves
 * through the package's `exports` to the BUILT files in dist/ (Lit from its dependencies).
 */
export async function bundle(code: string): Promise<string> {
  if (!resolveDir) {
    resolveDir = mkdtempSync(join(tmpdir(), 'byo-connect-app-'));
    mkdirSync(join(resolveDir, 'node_modules'));
    symlinkSync(PACKAGE_ROOT, join(resolveDir, 'node_modules', 'byo-connect'), 'dir');
  }
  const out = await build({
    stdin: { contents: code, resolveDir, loader: 'js', sourcefile: 'app.js' },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]?.text ?? '';
}

/** A page that loads one module script. */
export function htmlPage(body: string, script: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>test</title>${head}</head><body>${body}<script type="module" src="${script}"></script></body></html>`;
}
