import type { FastifyInstance } from 'fastify';

/** Routes a browser may call with a publishable key. */
export const BROWSER_PATHS = new Set(['/v1/keys/connect', '/trpc/keys.connect']);

/**
 * Preflight for the connect routes. A preflight carries no key, so it cannot know the
 * project: it answers for any origin, without credentials; the real request then checks the
 * origin against the project's allowed list and only an allowed origin gets
 * Access-Control-Allow-Origin.
 */
export function registerCors(app: FastifyInstance): void {
  // Every answer of the connect routes depends on Origin (ACAO or a 403), whatever the outcome.
  // Marked on arrival: the REST adapter later rewrites the URL to the path below /v1.
  const browser = new WeakSet<object>();
  app.addHook('onRequest', async (request) => {
    if (BROWSER_PATHS.has(request.url.split('?')[0] as string)) browser.add(request);
  });
  app.addHook('onSend', async (request, reply) => {
    if (browser.has(request)) void reply.header('vary', 'Origin');
  });
  app.options('/v1/keys/connect', preflight);
  app.options('/trpc/keys.connect', preflight);
  async function preflight(request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) {
    const origin = request.headers.origin;
    void reply.header('vary', 'Origin');
    if (origin) {
      void reply
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type, x-byo-client')
        .header('access-control-max-age', '600');
    }
    return reply.code(204).send();
  }
}
