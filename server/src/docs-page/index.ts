import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { BYOError } from '../errors.js';
import { type Asset, loadSwaggerAsset, makeAsset, swaggerUiVersion } from './assets.js';
import { CONTENT_SECURITY_POLICY, DOCS_CSS, docsHtml, INIT_SCRIPT } from './page.js';

/**
 * `GET /docs`: the API reference, Swagger UI rendering `GET /v1/openapi.json`. Swagger UI's
 * files come from the `swagger-ui-dist` package under `/docs/assets/*`; nothing is loaded
 * from another origin, and the page runs under a CSP without 'unsafe-inline'.
 */
export function docsPage(app: App): void {
  const { fastify } = app;
  const version = swaggerUiVersion();
  const own: Record<string, Asset> = {
    'init.js': makeAsset('text/javascript; charset=utf-8', INIT_SCRIPT, version),
    'docs.css': makeAsset('text/css; charset=utf-8', DOCS_CSS, version),
  };
  const cache = new Map<string, Asset>();
  const html = makeAsset('text/html; charset=utf-8', docsHtml(version), version);

  const securityHeaders = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cross-origin-resource-policy', 'same-origin');

  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string) => {
    securityHeaders(reply).header('content-type', asset.type).header('cache-control', cacheControl).header('etag', asset.etag);
    void reply.header('vary', 'Accept-Encoding');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (asset.gzip && acceptsGzip) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  };

  fastify.get('/docs', async (request, reply) => send(request, reply, html, 'no-cache'));
  fastify.get('/docs/', async (_request, reply) => reply.redirect('../docs', 301));
  fastify.get<{ Params: { file: string } }>('/docs/assets/:file', async (request, reply) => {
    const name = request.params.file;
    let asset = own[name] ?? cache.get(name);
    if (!asset) {
      asset = loadSwaggerAsset(name, version);
      if (asset) cache.set(name, asset);
    }
    if (!asset) throw new BYOError('not_found', 'No such asset.');
    // Asset URLs carry ?v=<swagger-ui version>, so they may be cached for a day.
    return send(request, reply, asset, 'public, max-age=86400');
  });
}
