import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { BYOError } from '../errors.js';
import { type Asset, makeAsset } from '../docs-page/assets.js';

/**
 * `GET /dashboard`: the operator console (docs/dashboard.md). Its files are built
 * from server/dashboard/ into dist/dashboard/ by `pnpm --filter byo-server build` and held in
 * memory; nothing comes from another origin. Every path under /dashboard that is not an asset
 * answers the page itself (history routing: each screen is a URL that survives a reload).
 */

/** No inline script or style, no eval; scripts, styles and calls go to this origin only. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** dist/dashboard beside the compiled server, or (source run under tsx) the built copy in dist/. */
function assetDir(): string | undefined {
  for (const rel of ['../dashboard/', '../../dist/dashboard/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

function loadAssets(dir: string): { html: Asset; files: Map<string, Asset> } {
  const files = new Map<string, Asset>();
  for (const name of readdirSync(join(dir, 'assets'))) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, makeAsset(type, readFileSync(join(dir, 'assets', name)), 'd'));
  }
  return { html: makeAsset(TYPES['.html'] as string, readFileSync(join(dir, 'index.html')), 'd'), files };
}

export function dashboardPage(app: App): void {
  const { fastify } = app;
  const dir = assetDir();
  const built = dir ? loadAssets(dir) : undefined;

  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string) => {
    void reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-frame-options', 'DENY')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-resource-policy', 'same-origin')
      .header('content-type', asset.type)
      .header('cache-control', cacheControl)
      .header('etag', asset.etag)
      .header('vary', 'Accept-Encoding');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    if (asset.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')))
      return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  };

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!built) throw new BYOError('not_found', 'The dashboard is not built: run `pnpm --filter byo-server build`.');
    return send(request, reply, built.html, 'no-cache');
  };
  fastify.get('/dashboard', page);
  fastify.get('/dashboard/*', page);
  fastify.get<{ Params: { file: string } }>('/dashboard/assets/:file', async (request, reply) => {
    const asset = built?.files.get(request.params.file);
    if (!asset) throw new BYOError('not_found', 'No such asset.');
    // Asset names carry a content hash, so a cached copy is never stale.
    return send(request, reply, asset, 'public, max-age=31536000, immutable');
  });
}
