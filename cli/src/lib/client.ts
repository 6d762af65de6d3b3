import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from 'byo-server/router';

/** The typed tRPC client: every call is checked against the server's router at compile time. */
export function createClient(opts: { url: string; token: string; userAgent: string }): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${opts.url.replace(/\/+$/, '')}/trpc`,
        headers: () => ({ authorization: `Bearer ${opts.token}`, 'user-agent': opts.userAgent }),
      }),
    ],
  });
}

export type Client = TRPCClient<AppRouter>;
