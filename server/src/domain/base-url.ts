import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BYOError } from '../errors.js';
import { SsrfError } from '../net/ssrf.js';
import type { Services } from '../services.js';

/**
 * Canonicalises and checks a customer-supplied URL at save time. The same policy
 * runs again inside the connector at every connection, so a host that resolves
 * differently later is still refused.
 */
export async function checkBaseUrl(
  services: Pick<Services, 'guard' | 'config'>,
  raw: string,
  what = 'baseUrl',
  resolver: (host: string) => Promise<{ address: string }[]> = (h) => lookup(h, { all: true }),
): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BYOError('invalid_base_url', `${what} is not an absolute URL.`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const operatorAllowed = services.guard.hostAllowed(host, port);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (services.config.BYO_ALLOW_HTTP_UPSTREAMS || operatorAllowed))) {
    throw new BYOError('invalid_base_url', `${what} must use https.`);
  }
  if (url.username || url.password) throw new BYOError('invalid_base_url', `${what} must not contain credentials.`);
  url.hash = '';
  try {
    if (isIP(host)) services.guard.checkAddress(host, host, port);
    else if (host === 'localhost' || host.endsWith('.localhost')) services.guard.checkAddress('127.0.0.1', host, port);
    else {
      // Operator-allowed hosts are resolved too: checkAddress lets their private addresses
      // through but never a metadata address.
      let addrs: { address: string }[] = [];
      try {
        addrs = await resolver(host);
      } catch {
        // Unresolvable now: accepted, and checked again when a connection is made.
      }
      for (const a of addrs) services.guard.checkAddress(a.address, host, port);
    }
  } catch (err) {
    if (err instanceof SsrfError) throw new BYOError('invalid_base_url', `${what} is not allowed: ${err.message}`);
    throw err;
  }
  return url.toString().replace(/\/+$/, '');
}
