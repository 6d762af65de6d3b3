import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * The CSP an HTML page gets when its route sets none: nothing may load, nothing may frame
 * it. Pages that need more (the API reference, the connect embed) set their own policy,
 * which this hook leaves alone.
 */
export const DEFAULT_HTML_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Response headers every route gets (HTTP hardening): `nosniff` so no response is
 * ever sniffed into HTML or script, no Referer leaks from BYO pages, API answers (which can
 * hold a key shown once) are not cached unless the route says otherwise, and HTML is locked down unless the page opted in.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (_request, reply) => {
    setBaseSecurityHeaders(reply.raw);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', DEFAULT_HTML_CSP);
      const csp = String(reply.getHeader('content-security-policy'));
      // Old browsers ignore frame-ancestors; keep them from framing a page that allows no framing.
      if (/frame-ancestors 'none'/.test(csp) && !reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'DENY');
    } else if (!reply.hasHeader('cache-control')) {
      void reply.header('cache-control', 'no-store');
    }
    return payload;
  });
}

/** The headers every response gets, as `[name, value]` pairs. */
export const BASE_SECURITY_HEADERS = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
] as const;

/**
 * Sets the base headers on the raw response, so responses written without Fastify's reply (the
 * proxy's hijacked route) send them too: node merges them into whatever writeHead() is given.
 * The proxy's raw path passes them to writeHead() itself instead (see proxy/headers.ts).
 */
export function setBaseSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of BASE_SECURITY_HEADERS) res.setHeader(name, value);
}
