import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App } from '../app.js';
import { providerCatalog } from '../providers/catalog.js';
import { ProviderSchema, RefIdSchema } from '../schemas/common.js';
import { originAllowed } from '../domain/origins.js';
import { isServerOrigin } from '../domain/server-origin.js';
import { CapParam, CapWindowParam, capOption } from './cap-field.js';
import type { FormProvider } from './fields.js';
import { modelsCount } from './models.js';
import { embedCsp, renderError, renderForm } from './page.js';

/**
 * The hosted connect form, `GET /connect/embed`, that `<byo-connect-form>` frames. The page
 * is only rendered for a publishable key and a parent origin on that project's allowed
 * origins (in test mode a project without allowed origins accepts any), and it may only be
 * framed by those origins (`frame-ancestors`). Its script posts results to that exact
 * origin, and calls `POST /v1/keys/connect` same-origin, then `GET /connect/embed/models`
 * (models.ts) to say how many models the key unlocks.
 */

export const EMBED_PATH = '/connect/embed';
const ASSET_PREFIX = `${EMBED_PATH}/assets/`;

interface Asset {
  path: string;
  body: Buffer;
  type: string;
}

/** `assets/` sits next to this module: in `src/`, and in `dist/` where the build copies it (scripts/copy-assets.mjs). */
function assetDir(): string {
  const dir = fileURLToPath(new URL('./assets/', import.meta.url));
  if (!existsSync(`${dir}embed.js`)) throw new Error(`connect-embed: ${dir}embed.js not found (run the build, which copies it)`);
  return dir;
}

/** Content-hashed, immutable URLs, so a host can pin them. */
function loadAssets(): { script: Asset; style: Asset } {
  const dir = assetDir();
  const load = (file: string, ext: string, type: string): Asset => {
    const body = readFileSync(`${dir}${file}`);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    return { path: `${ASSET_PREFIX}embed.${hash}.${ext}`, body, type };
  };
  return { script: load('embed.js', 'js', 'text/javascript; charset=utf-8'), style: load('embed.css', 'css', 'text/css; charset=utf-8') };
}

const OriginParam = z
  .string()
  .max(512)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === v;
    } catch {
      return false;
    }
  });

const QuerySchema = z.object({
  pk: z.string().max(512).optional(),
  refId: RefIdSchema.optional(),
  parentOrigin: OriginParam.optional(),
  provider: ProviderSchema.optional(),
  providers: z.string().max(1000).optional(),
  theme: z.enum(['light', 'dark']).optional(),
  spendingCap: CapParam.optional(),
  spendingCapWindow: CapWindowParam.optional(),
});

/** Entries that are exactly an origin (no spaces or `;` can reach the CSP). */
function cspOrigins(list: string[]): string[] {
  return list.filter((o) => OriginParam.safeParse(o).success);
}

export function connectEmbed(app: App): void {
  const { fastify, services } = app;
  const assets = loadAssets();
  const assetUrls = { script: assets.script.path, style: assets.style.path };
  // The form renders exactly what `GET /v1/providers` lists.
  const catalog: FormProvider[] = providerCatalog(services.providers);

  for (const asset of [assets.script, assets.style]) {
    fastify.get(asset.path, async (_req, reply) =>
      reply
        .header('content-type', asset.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'same-origin')
        .send(asset.body),
    );
  }

  fastify.get(EMBED_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = QuerySchema.safeParse(request.query);
    const q = parsed.success ? parsed.data : {};
    const theme = q.theme ?? 'light';
    const send = (status: number, frameAncestors: string[], html: string) =>
      reply
        .code(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', embedCsp(frameAncestors))
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-opener-policy', 'same-origin')
        .header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()')
        .send(html);
    // An error page holds no form and no secret; the declared parent may frame it, so the
    // developer reads the reason in place.
    const fail = (status: number, message: string, frameAncestors = q.parentOrigin ? [q.parentOrigin] : []) =>
      send(status, frameAncestors, renderError({ assets: assetUrls, theme, title: 'The key form is unavailable', message }));

    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(400, `Invalid ${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'bad value'}.`);
    }
    if (!q.pk) return fail(400, 'The publishable key is missing (publishable-key attribute).');
    if (q.pk.startsWith('byo_sk_'))
      return fail(
        400,
        'A secret key must never be put in a web page. Use the publishable key (byo_pk_...), and roll this secret key now.',
        [],
      );
    if (!q.refId) return fail(400, 'The refId is missing (ref-id attribute).');
    if (!q.parentOrigin) return fail(400, 'The parent origin is missing (parentOrigin parameter).');

    let principal: Awaited<ReturnType<typeof services.auth.authenticateKey>>;
    try {
      principal = await services.auth.authenticateKey(q.pk);
    } catch {
      return fail(401, 'This publishable key is not valid.');
    }
    if (principal.kind !== 'pk') return fail(400, 'The key is not a publishable key (byo_pk_...).', []);

    const { project, mode } = principal;
    const allowed = cspOrigins(project.allowed_origins);
    // The Referer (the element asks for `referrerpolicy="origin"`) must agree with the declared parent.
    const referer = request.headers.referer;
    const refererOrigin = referer ? safeOrigin(referer) : null;
    if (!originAllowed(allowed, mode, q.parentOrigin) || (refererOrigin && refererOrigin !== q.parentOrigin)) {
      // frame-ancestors = the allowed list: the browser refuses to show this page to another origin.
      return fail(403, `The origin ${q.parentOrigin} is not in this project's allowed origins.`, allowed);
    }
    const self = `${request.protocol}://${request.host}`;
    if (!originAllowed(allowed, mode, self) && !isServerOrigin(services, self)) {
      return fail(
        500,
        `This BYO server does not know its public URL (${self}), so its connect form would be refused. Set BYO_PUBLIC_URL.`,
        allowed.length ? allowed : [q.parentOrigin],
      );
    }

    let providers = q.provider ? catalog.filter((p) => p.id === q.provider) : catalog;
    if (!q.provider && q.providers) {
      const wanted = q.providers.split(',').map((p) => p.trim());
      providers = catalog.filter((p) => wanted.includes(p.id));
      if (!providers.length) return fail(400, `providers must list some of ${catalog.map((p) => p.id).join(', ')}.`);
    }

    // Test mode without allowed origins accepts any parent: pin the frame to the declared one.
    const frameAncestors = allowed.length ? allowed : [q.parentOrigin];
    return send(
      200,
      frameAncestors,
      renderForm({
        assets: assetUrls,
        theme,
        mode,
        publishableKey: q.pk,
        refId: q.refId,
        parentOrigin: q.parentOrigin,
        providers,
        cap: capOption(q.spendingCap, q.spendingCapWindow),
      }),
    );
  });

  modelsCount(app);
}

function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
