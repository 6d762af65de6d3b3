import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF policy shared by custom provider base URLs and webhook URLs (SSRF-1..6).
 * An address is refused when it is loopback, private, link-local (cloud metadata), CGNAT,
 * unique-local, unspecified, multicast, reserved, or an IPv4-in-IPv6 form of one of those,
 * unless the operator allows its host or range. Metadata addresses stay refused always.
 */

const ALWAYS_BLOCKED = ['169.254.169.254/32', 'fd00:ec2::254/128', '100.100.100.200/32'].map((c) => ipaddr.parseCIDR(c));
const ALLOWED_RANGES = new Set(['unicast']);

export interface SsrfPolicy {
  /** Host names (lower case), host:port pairs, or CIDR ranges the operator allows. */
  allowedHosts: string[];
}

export class SsrfError extends Error {
  readonly code = 'ssrf_blocked';
  constructor(message: string) {
    super(message);
    this.name = 'SsrfError';
  }
}

function normalize(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) addr = v6.toIPv4Address();
    else {
      // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address too.
      const range = v6.range();
      if (range === 'rfc6052' || range === 'rfc6145') {
        const b = v6.toByteArray();
        addr = ipaddr.fromByteArray(b.slice(12));
      } else if (range === '6to4') {
        const b = v6.toByteArray();
        addr = ipaddr.fromByteArray(b.slice(2, 6));
      }
    }
  }
  return addr;
}

function inCidrList(addr: ipaddr.IPv4 | ipaddr.IPv6, cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][]): boolean {
  return cidrs.some(([range, bits]) => range.kind() === addr.kind() && addr.match([range, bits] as never));
}

export function isMetadataAddress(ip: string): boolean {
  try {
    return inCidrList(normalize(ip), ALWAYS_BLOCKED);
  } catch {
    return true;
  }
}

export class SsrfGuard {
  private readonly hosts = new Set<string>();
  private readonly cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];

  constructor(policy: SsrfPolicy) {
    for (const raw of policy.allowedHosts) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      if (entry.includes('/')) {
        try {
          this.cidrs.push(ipaddr.parseCIDR(entry));
          continue;
        } catch {
          /* not a range: treat as host */
        }
      }
      if (ipaddr.isValid(entry)) this.cidrs.push([normalize(entry), normalize(entry).kind() === 'ipv4' ? 32 : 128]);
      else this.hosts.add(entry);
    }
  }

  /** Whether the operator allow-listed this host name (with or without port). */
  hostAllowed(hostname: string, port?: string | number): boolean {
    const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return this.hosts.has(h) || (port !== undefined && this.hosts.has(`${h}:${port}`));
  }

  /** Throws SsrfError if connecting to `ip` (resolved from `hostname`) is not allowed. */
  checkAddress(ip: string, hostname: string, port?: string | number): void {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = normalize(ip);
    } catch {
      throw new SsrfError(`refused to connect to ${hostname}: unparseable address`);
    }
    if (inCidrList(addr, ALWAYS_BLOCKED)) throw new SsrfError(`refused to connect to ${hostname}: cloud metadata address`);
    if (ALLOWED_RANGES.has(addr.range())) return;
    if (this.hostAllowed(hostname, port) || inCidrList(addr, this.cidrs)) return;
    throw new SsrfError(
      `refused to connect to ${hostname}: it resolves to a ${addr.range()} address. An operator can allow it with BYO_ALLOWED_UPSTREAM_HOSTS.`,
    );
  }

  /**
   * A `lookup` for net/tls connect: resolves, checks every address, and hands the checked
   * address to the socket (so a DNS rebind between check and connect is impossible).
   */
  lookupFor(port: string | number | undefined, resolver: typeof dnsLookup = dnsLookup) {
    return (
      hostname: string,
      options: { family?: number | string; all?: boolean } | number,
      callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ): void => {
      const opts = typeof options === 'number' ? { family: options } : (options ?? {});
      resolver(hostname, { all: true, family: Number(opts.family) || 0 } as never, (err, addresses) => {
        if (err) return callback(err, '', 0);
        const list = (addresses as unknown as LookupAddress[]) ?? [];
        try {
          if (list.length === 0) throw new SsrfError(`refused to connect to ${hostname}: no address`);
          for (const a of list) this.checkAddress(a.address, hostname, port);
        } catch (e) {
          return callback(e as NodeJS.ErrnoException, '', 0);
        }
        if (opts.all) return callback(null, list);
        const first = list[0] as LookupAddress;
        callback(null, first.address, first.family);
      });
    };
  }

  /** Checks a literal-IP host right away (sockets skip `lookup` for literals). */
  checkLiteral(hostname: string, port?: string | number): void {
    const h = hostname.replace(/^\[|\]$/g, '');
    if (isIP(h)) this.checkAddress(h, hostname, port);
  }
}
