import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../src/trpc/router.js';

/**
 * The dashboard's only way to the server: the typed tRPC client, as the CLI uses it. The
 * session lives in an HttpOnly cookie the browser sends by itself; this module holds only the
 * CSRF token (in memory, from the session call) and the admin's chosen project and mode.
 */
export const state = {
  csrf: '' as string,
  project: null as string | null,
  mode: 'test' as 'live' | 'test',
};

export const api = createTRPCClient<AppRouter>({
  links: [
    httpLink({
      url: '/trpc',
      headers: () => {
        const h: Record<string, string> = {};
        if (state.csrf) h['x-byo-csrf'] = state.csrf;
        if (state.project) {
          h['x-byo-project'] = state.project;
          h['x-byo-mode'] = state.mode;
        }
        return h;
      },
    }),
  ],
});

export type Api = typeof api;

/** A failed call's BYO error code and message, whatever threw. */
export function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof TRPCClientError) {
    const data = e.data as { code?: string } | undefined;
    return { code: data?.code ?? 'internal_error', message: e.message };
  }
  return { code: 'network_error', message: e instanceof Error ? e.message : String(e) };
}

/** Fired on window when a call finds the session gone, so the shell shows the sign-in form. */
export const SESSION_ENDED = 'byo-dashboard:session-ended';

export function reportError(e: unknown): string {
  const err = errorOf(e);
  if (err.code === 'session_expired') window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  return err.message;
}
