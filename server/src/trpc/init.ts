import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { ZodError } from 'zod';
import type { Principal } from '../auth/authenticator.js';
import type { Project } from '../db/schema.js';
import type { Actor } from '../domain/audit.js';
import { BYOError, type ErrorIssue, toBYOError } from '../errors.js';
import { renderError } from '../errors/render.js';
import type { Context } from './context.js';
import { csrfMatches, type ResolvedSession, resolveSession, type SessionTimes } from '../domain/dashboard-sessions.js';
import { getProject } from '../domain/projects.js';

/** The only place initTRPC is called; it exports the few base procedures. */

const TRPC_CODES: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** Maps anything a procedure threw to the BYOError that both surfaces render. */
export function domainError(error: TRPCError): BYOError {
  const cause = error.cause;
  if (cause instanceof BYOError) return cause;
  if (cause instanceof ZodError || (error.code === 'BAD_REQUEST' && cause?.name === 'ZodError')) {
    const issues: ErrorIssue[] = (cause as ZodError).issues.map((i) => ({
      path: i.path.join('.'),
      message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
    }));
    const first = issues[0];
    return new BYOError(
      'validation_failed',
      first ? `Invalid input: ${first.path ? `${first.path}: ` : ''}${first.message}` : 'Invalid input',
      { issues },
    );
  }
  switch (error.code) {
    case 'PARSE_ERROR':
      return new BYOError('bad_request', 'The request body is not valid JSON.');
    case 'BAD_REQUEST':
      return new BYOError('bad_request', 'Bad request.');
    case 'NOT_FOUND':
      return new BYOError('not_found', 'No such route. See GET /v1/openapi.json for the API.');
    case 'PAYLOAD_TOO_LARGE':
      return new BYOError('payload_too_large', 'The request body is too large (limit 64 KiB).');
    case 'UNSUPPORTED_MEDIA_TYPE':
      return new BYOError('unsupported_media_type', 'Send the body as application/json.');
    case 'METHOD_NOT_SUPPORTED':
      return new BYOError('not_found', 'This method is not supported on this route.');
    default:
      return toBYOError(cause ?? error);
  }
}

const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    errorFormatter({ shape, error, ctx }) {
      // Logging is onError's (logProcedureError); the REST adapter rebuilds its body from `data`.
      const { status, body } = renderError(domainError(error), ctx?.requestId ?? '');
      return {
        ...shape,
        message: body.message,
        data: {
          code: body.code,
          message: body.message,
          httpStatus: status,
          requestId: ctx?.requestId ?? null,
          issues: body.issues ?? null,
        },
      };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;

/** Turns BYOErrors into TRPCErrors with the right tRPC code (and so the right HTTP status). */
const errors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof BYOError) {
      if (cause.retryAfter) ctx.setResponseHeader('retry-after', String(cause.retryAfter));
      throw new TRPCError({ code: TRPC_CODES[cause.status] ?? 'INTERNAL_SERVER_ERROR', message: cause.message, cause });
    }
  }
  return result;
});

export const publicProcedure = t.procedure.use(errors);

export interface KeyScope {
  principal: Extract<Principal, { type: 'key' }>;
  project: Project;
  mode: 'live' | 'test';
  actor: Actor;
}

/** The dashboard's session settings, from the config. */
export const sessionTimes = (ctx: Context): SessionTimes => ({
  idleMs: ctx.services.config.BYO_DASHBOARD_IDLE_TIMEOUT,
  maxAgeMs: ctx.services.config.BYO_DASHBOARD_SESSION_MAX_AGE,
});

/**
 * A key in the request (Authorization and the like) wins; otherwise, on /trpc, the dashboard's
 * session cookie, whose every state-changing call must carry its CSRF token.
 */
const authenticated = publicProcedure.use(async ({ ctx, next, type }) => {
  const token = ctx.credential === undefined ? ctx.dashboard?.sessionToken : undefined;
  if (token) {
    if (type === 'mutation' && !csrfMatches(token, ctx.dashboard?.csrf ?? null))
      throw new BYOError('csrf_failed', "This call needs the session's CSRF token in the x-byo-csrf header. Reload the dashboard.");
    const session = await resolveSession(ctx.services.db, ctx.services.auth, token, sessionTimes(ctx));
    return next({ ctx: { principal: session.principal, session } });
  }
  const principal = await ctx.services.auth.authenticate(ctx.credential);
  return next({ ctx: { principal, session: null as ResolvedSession | null } });
});

/** A dashboard session (cookie) and nothing else: reading or ending the session itself. */
export const sessionProcedure = authenticated.use(async ({ ctx, next }) => {
  const token = ctx.dashboard?.sessionToken;
  if (!ctx.session || !token) throw new BYOError('session_expired', 'Sign in to the dashboard first.');
  return next({ ctx: { session: ctx.session, sessionToken: token } });
});

/** pk or sk: connect, and the provider catalog a connect form renders from. */
export const publishableProcedure = authenticated.use(async ({ ctx, next }) => {
  if (ctx.principal.type === 'admin' && ctx.session && ctx.dashboard?.project) {
    // The admin's project switcher: the dashboard acts on the chosen project and mode as its secret key would.
    const project = await getProject(ctx.services.db, ctx.dashboard.project);
    const mode = ctx.dashboard.mode === 'live' ? 'live' : 'test';
    const principal: KeyScope['principal'] = {
      type: 'key',
      keyId: `admin:${ctx.session.id}`,
      kind: 'sk',
      mode,
      projectId: project.id,
      project,
    };
    return next({ ctx: { key: { principal, project, mode, actor: actorOf(ctx, 'admin') } satisfies KeyScope } });
  }
  if (ctx.principal.type !== 'key') throw new BYOError('permission_denied', 'Use a project API key (byo_pk_ or byo_sk_) for this route.');
  const p = ctx.principal;
  return next({
    ctx: { key: { principal: p, project: p.project, mode: p.mode, actor: actorOf(ctx, `api_key:${p.keyId}`) } satisfies KeyScope },
  });
});

/** sk only; a pk gets 403 permission_denied. */
export const secretProcedure = publishableProcedure.use(async ({ ctx, next }) => {
  if (ctx.key.principal.kind !== 'sk')
    throw new BYOError('permission_denied', 'A publishable key can only connect keys. Use your secret key (byo_sk_) from your backend.');
  return next();
});

/** Operator procedures: the admin token (BYO_ADMIN_TOKEN). */
export const adminProcedure = authenticated.use(async ({ ctx, next }) => {
  if (ctx.principal.type !== 'admin') throw new BYOError('permission_denied', 'This operation needs the admin token (BYO_ADMIN_TOKEN).');
  return next({ ctx: { actor: actorOf(ctx, 'admin') } });
});

function actorOf(ctx: Context, actor: string): Actor {
  return { actor, ip: ctx.ip, userAgent: ctx.userAgent };
}
