import { openToAnyOrigin, originAllowed } from '../domain/origins.js';
import { isServerOrigin } from '../domain/server-origin.js';
import { BYOError } from '../errors.js';
import type { Context } from './context.js';
import type { KeyScope } from './init.js';

/** Whether a publishable-key call from `origin` is one this project's pages may make. */
function pageAllowed(ctx: Context & { key: KeyScope }, origin: string): boolean {
  const { key } = ctx;
  // The hosted connect form (/connect/embed) calls this route same-origin, so its Origin
  // is this server's own public origin (BYO_PUBLIC_URL or the listening address). That
  // page enforces the project's allowed origins itself (frame-ancestors, verified parent
  // origin for postMessage), so the server's own origin is accepted here.
  return originAllowed(key.project.allowed_origins, key.mode, origin) || isServerOrigin(ctx.services, origin);
}

/**
 * The CORS answer of a publishable-key connect from an allowed page, set before the input is
 * read: a page must be able to read a `400 validation_failed` (a bad `limits`, a malformed
 * key), not see a network error.
 */
export function allowConnectOrigin(ctx: Context & { key: KeyScope }): void {
  if (ctx.key.principal.kind !== 'pk' || !ctx.origin || !pageAllowed(ctx, ctx.origin)) return;
  ctx.setResponseHeader('access-control-allow-origin', ctx.origin);
  ctx.setResponseHeader('vary', 'Origin');
}

/**
 * Who may call `keys.connect`, and how often: the origin rule and CORS answer for a publishable
 * key (a browser), and the rate limits of each kind of key. Applied as a middleware after input
 * validation, so bad input is a 400 that consumes no rate limit, as before.
 */
export async function enforceConnectPolicy(ctx: Context & { key: KeyScope }): Promise<void> {
  const { key } = ctx;
  if (key.principal.kind !== 'pk') {
    await ctx.services.rateLimits.consumeSecretConnect(key.principal.keyId);
    return;
  }
  if (ctx.origin && !pageAllowed(ctx, ctx.origin)) {
    throw new BYOError('origin_not_allowed', `Origin ${ctx.origin} is not in this project's allowed origins.`);
  }
  // A publishable key is for browsers, which always send Origin on this POST. Where origins
  // are enforced, a request without one (a script holding a copied pk) is refused; an abuse
  // filter, not authentication. Only a test-mode project with no allowed origins is open to
  // any caller (the quickstart's curl).
  if (!ctx.origin && !openToAnyOrigin(key.project.allowed_origins, key.mode)) {
    throw new BYOError(
      'origin_not_allowed',
      "A publishable key can connect keys only from a web page on one of the project's allowed origins (the request had no Origin header). From a server, use your secret key.",
    );
  }
  await ctx.services.rateLimits.consumeConnect(key.principal.keyId, ctx.ip);
}
