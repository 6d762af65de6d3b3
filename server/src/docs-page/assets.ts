import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The swagger-ui-dist files the page needs, served from the installed package (no CDN). */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

export interface Asset {
  type: string;
  body: Buffer;
  /** Present when gzip makes the body meaningfully smaller. */
  gzip?: Buffer;
  etag: string;
}

let swaggerDir: string | undefined;
function swaggerUiDir(): string {
  swaggerDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return swaggerDir;
}

export function swaggerUiVersion(): string {
  const pkg = JSON.parse(readFileSync(join(swaggerUiDir(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function makeAsset(type: string, body: Buffer | string, version: string): Asset {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const asset: Asset = { type, body: buf, etag: `"${version}-${buf.length.toString(36)}"` };
  if (/^(text|application\/json)/.test(type) && buf.length > 1024) {
    const gz = gzipSync(buf, { level: 9 });
    if (gz.length < buf.length * 0.9) asset.gzip = gz;
  }
  return asset;
}

/** Reads a swagger-ui-dist file on first use; unknown names give undefined (never a path from the URL). */
export function loadSwaggerAsset(name: string, version: string): Asset | undefined {
  const type = SWAGGER_FILES[name];
  if (!type) return undefined;
  return makeAsset(type, readFileSync(join(swaggerUiDir(), name)), version);
}
