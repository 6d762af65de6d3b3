import type { IncomingHttpHeaders } from 'node:http';
import type { Services } from '../services.js';
import { credentialFromHeaders } from '../auth/authenticator.js';
import { type DashboardRequest, dashboardRequest } from './session-cookie.js';

/**
 * The inner context is plain values (tests build it directly and use `createCaller`);
 * `contextFromRequest` is the outer part that reads an HTTP request.
 */
export interface Context {
  services: Services;
  requestId: string;
  credential: string | undefined;
  ip: string;
  userAgent: string | null;
  origin: string | null;
  idempotencyKey: string | null;
  /** Lets a procedure add a response header (CORS, Retry-After) on either surface. */
  setResponseHeader: (name: string, value: string) => void;
  /** The dashboard's cookie session and CSRF header: read on /trpc only, null on REST. */
  dashboard: DashboardRequest | null;
}

export function contextFromRequest(
  services: Services,
  req: { id: string; ip: string; headers: IncomingHttpHeaders; protocol?: string; host?: string },
  setResponseHeader: (name: string, value: string) => void = () => {},
  opts: { dashboard?: boolean } = {},
): Context {
  const h = req.headers;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;
  return {
    services,
    requestId: req.id,
    credential: credentialFromHeaders(h),
    ip: req.ip,
    userAgent: one(h['user-agent']),
    origin: one(h.origin),
    idempotencyKey: one(h['idempotency-key']),
    setResponseHeader,
    dashboard: opts.dashboard ? dashboardRequest(h, req.protocol === 'https', req.host ?? null) : null,
  };
}
