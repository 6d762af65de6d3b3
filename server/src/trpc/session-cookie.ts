import type { IncomingHttpHeaders } from 'node:http';

/**
 * The dashboard's session cookie. Over https it is `__Host-byo_session` (the prefix makes the
 * browser insist on Secure, Path=/ and no Domain); over plain http (a local server) it is
 * `byo_session` without Secure, which browsers would otherwise drop.
 */
const PLAIN = 'byo_session';
const SECURE = '__Host-byo_session';

/** What a /trpc request carries for the dashboard; null on REST, which authenticates by key alone. */
export interface DashboardRequest {
  sessionToken: string | null;
  csrf: string | null;
  /** The admin's project switcher: which project and mode project-scoped calls act on. */
  project: string | null;
  mode: string | null;
  secure: boolean;
  /** What sign-in checks to prove it comes from this origin's own page (trpc/same-origin.ts). */
  fetchSite: string | null;
  contentType: string | null;
  /** This request's own origin as the client addressed it (scheme and Host); null without a Host. */
  ownOrigin: string | null;
}

export function dashboardRequest(headers: IncomingHttpHeaders, secure: boolean, host: string | null = null): DashboardRequest {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;
  return {
    sessionToken: readCookie(one(headers.cookie), secure ? SECURE : PLAIN),
    csrf: one(headers['x-byo-csrf']),
    project: one(headers['x-byo-project']),
    mode: one(headers['x-byo-mode']),
    secure,
    fetchSite: one(headers['sec-fetch-site']),
    contentType: one(headers['content-type']),
    ownOrigin: originOf(secure, host ?? one(headers.host)),
  };
}

function originOf(secure: boolean, host: string | null): string | null {
  if (!host) return null;
  try {
    return new URL(`${secure ? 'https' : 'http'}://${host}`).origin;
  } catch {
    return null;
  }
}

function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** Set-Cookie for a new session (no Max-Age: the server ends it; the browser drops it at exit). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${secure ? SECURE : PLAIN}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${secure ? SECURE : PLAIN}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
