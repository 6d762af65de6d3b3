import type { FastifyInstance } from 'fastify';

/** Routes a browser may call with a publishable key. */
export const BROWSER_PATHS = new Set(['/v1/keys/connect', '/trpc/keys.connect']);

/**
 * Preflight for the connect routes. A preflight carries no key, so it cannot know the
 * project: it answers for any origin, without credentials; the real request then checks the
 * origin against the project's allowed list and only an allowed origin gets
 * Access-Control-Allow-Origin (WEB-1).
 */
export function registerCors(app: FastifyInstance): void {
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
