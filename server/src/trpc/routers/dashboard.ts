import { z } from 'zod';
import { audit } from '../../domain/audit.js';
import { csrfTokenFor, type ResolvedSession, resolveSession, signIn, signOut } from '../../domain/dashboard-sessions.js';
import { overview } from '../../domain/overview.js';
import { DashboardSessionSchema, OverviewSchema, SignInInputSchema, type DashboardSession } from '../../schemas/dashboard.js';
import { BYOError } from '../../errors.js';
import type { Context } from '../context.js';
import { publicProcedure, router, secretProcedure, sessionProcedure, sessionTimes } from '../init.js';
import { assertSameOriginSignIn } from '../same-origin.js';
import { clearedSessionCookie, sessionCookie } from '../session-cookie.js';

/**
 * The operator dashboard (`/dashboard`). Its session calls are tRPC only (no REST
 * route): a cookie session is for the browser page on this origin, while REST clients present
 * their key on every call. Its read models are ordinary procedures with REST routes.
 */

function sessionView(ctx: Context, session: ResolvedSession, token: string): DashboardSession {
  const p = session.principal;
  return {
    principal: p.type === 'admin' ? 'admin' : 'secret_key',
    project: p.type === 'key' ? { id: p.project.id, name: p.project.name } : null,
    mode: p.type === 'key' ? p.mode : null,
    csrfToken: csrfTokenFor(token),
    expiresAt: session.expiresAt.toISOString(),
    idleTimeoutSeconds: Math.round(ctx.services.config.BYO_DASHBOARD_IDLE_TIMEOUT / 1000),
  };
}

export const dashboardRouter = router({
  signIn: publicProcedure
    // Before the input is read: a cross-site attempt is refused whatever its body.
    .use(({ ctx, next }) => {
      assertSameOriginSignIn(ctx);
      return next();
    })
    .input(SignInInputSchema)
    .output(DashboardSessionSchema)
    .mutation(async ({ ctx, input }) => {
      if (!ctx.dashboard) throw new BYOError('not_found', 'Dashboard sessions are made through /trpc by the dashboard page.');
      await ctx.services.rateLimits.checkSignIn(ctx.ip);
      const { token, session } = await signIn(
        ctx.services.db,
        ctx.services.auth,
        input.secret,
        { ip: ctx.ip, userAgent: ctx.userAgent },
        sessionTimes(ctx),
      ).catch(async (e: unknown) => {
        if (e instanceof BYOError && (e.status === 401 || e.status === 403)) await ctx.services.rateLimits.failedSignIn(ctx.ip);
        throw e;
      });
      ctx.setResponseHeader('set-cookie', sessionCookie(token, ctx.dashboard.secure));
      const p = session.principal;
      await audit(
        ctx.services.db,
        { actor: p.type === 'admin' ? 'admin' : `api_key:${p.keyId}`, ip: ctx.ip, userAgent: ctx.userAgent },
        {
          projectId: p.type === 'key' ? p.projectId : null,
          mode: p.type === 'key' ? p.mode : null,
          action: 'dashboard.signed_in',
          target: session.id,
        },
      );
      return sessionView(ctx, session, token);
    }),
  /** The current session, or null when there is none (the page's first call: not an error). */
  session: publicProcedure
    .input(z.strictObject({}).optional())
    .output(DashboardSessionSchema.nullable())
    .query(async ({ ctx }) => {
      const token = ctx.credential === undefined ? ctx.dashboard?.sessionToken : undefined;
      if (!token) return null;
      try {
        return sessionView(ctx, await resolveSession(ctx.services.db, ctx.services.auth, token, sessionTimes(ctx)), token);
      } catch (e) {
        if (e instanceof BYOError && e.code === 'session_expired') return null;
        throw e;
      }
    }),
  signOut: sessionProcedure
    .input(z.strictObject({}).optional())
    .output(z.object({ signedOut: z.literal(true) }))
    .mutation(async ({ ctx }) => {
      await signOut(ctx.services.db, ctx.sessionToken, sessionTimes(ctx));
      ctx.setResponseHeader('set-cookie', clearedSessionCookie(ctx.dashboard?.secure ?? false));
      return { signedOut: true as const };
    }),
  overview: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/overview',
        tags: ['Overview'],
        summary: "The project's state at a glance: keys, customers, 30 days of usage, failing webhooks",
        description:
          "What the dashboard's first screen draws, in one call: counts of stored keys by status, customers connected and active, requests, errors and tokens per UTC day for the last 30 days, and webhook endpoints that are failing or disabled.",
      },
    })
    .input(z.strictObject({}).optional())
    .output(OverviewSchema)
    .query(async ({ ctx }) => {
      await ctx.services.flushUsage?.().catch(() => {});
      return overview(ctx.services.db, { projectId: ctx.key.project.id, mode: ctx.key.mode });
    }),
});
