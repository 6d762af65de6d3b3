import type { Services } from '../services.js';

/**
 * The BYO server's own origins: `BYO_PUBLIC_URL`, and the address it listens on (with the
 * loopback aliases when it listens on loopback). The hosted connect form (`/connect/embed`)
 * runs on these origins and calls `POST /v1/keys/connect` same-origin, so its requests carry
 * one of them as `Origin`. The listen address is `services.serverAddress()`, so an ephemeral
 * port (`PORT=0`) is known once bound.
 */

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function serverOrigins(services: Pick<Services, 'config' | 'serverAddress'>): Set<string> {
  const { BYO_PUBLIC_URL, HOST, PORT } = services.config;
  const origins = new Set<string>();
  if (BYO_PUBLIC_URL) origins.add(new URL(BYO_PUBLIC_URL).origin);
  const address = services.serverAddress();
  const port = address && typeof address === 'object' ? address.port : PORT;
  const hosts = LOOPBACK.has(HOST) ? ['127.0.0.1', 'localhost', '[::1]'] : HOST === '0.0.0.0' || HOST === '::' ? [] : [HOST];
  for (const host of hosts) {
    try {
      origins.add(new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`).origin);
    } catch {
      /* not a URL host */
    }
  }
  return origins;
}

export function isServerOrigin(services: Pick<Services, 'config' | 'serverAddress'>, origin: string): boolean {
  return serverOrigins(services).has(origin);
}
