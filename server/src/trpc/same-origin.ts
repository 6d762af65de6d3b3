import { isServerOrigin } from '../domain/server-origin.js';
import { BYOError } from '../errors.js';
import type { Context } from './context.js';

/**
 * Sign-in takes no session yet, so SameSite cannot guard it: a page elsewhere could post a form
 * with its own key and sign the victim's browser in to the attacker's project (login CSRF). A
 * sign-in must therefore come from a page on this server's origin: Origin is this server's
 * (BYO_PUBLIC_URL, the listen address, or the origin the request was addressed to), a browser's
 * Sec-Fetch-Site, when sent, says same-origin, and the body is JSON, which no cross-site form or
 * simple request can send without a CORS preflight this route never grants.
 */
export function assertSameOriginSignIn(ctx: Context): void {
  const d = ctx.dashboard;
  if (!d) return;
  const refuse = (why: string) =>
    new BYOError(
      'csrf_failed',
      `Sign in from the dashboard page on this server (${why}). Open /dashboard on this server and sign in there.`,
    );
  if (d.fetchSite !== null && d.fetchSite !== 'same-origin') throw refuse(`the request came from a ${d.fetchSite} page`);
  if (!ctx.origin) throw refuse('the request had no Origin header');
  if (ctx.origin !== d.ownOrigin && !isServerOrigin(ctx.services, ctx.origin))
    throw refuse(`Origin ${ctx.origin} is not this server's origin`);
  if (!/^application\/json\s*(;|$)/i.test(d.contentType ?? '')) throw refuse('the body must be JSON (content-type: application/json)');
}
