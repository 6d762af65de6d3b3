import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF policy shared by custom provider base URLs and webhook URLs.
 * An address is refused when it is loopback, private, link-local (cloud metadata), CGNAT,
 * unique-local, unspecified, multicast, reserved, or an IPv4-in-IPv6 form of one of those,
 * unless the operator allows its host or range. Metadata addresses stay refused always.
 */

// Instance metadata (AWS, GCP, Azure, Oracle; AWS over IPv6; Alibaba) and the AWS container
// credential endpoints (ECS, EKS Pod Identity): refused even on hosts the operator allows.
const ALWAYS_BLOCKED = [
  '169.254.169.254/32',
  'fd00:ec2::254/128',
  '100.100.100.200/32',
  '169.254.170.2/32',
  '169.254.170.23/32',
  'fd00:ec2::23/128',
].map((c) => ipaddr.parseCIDR(c));
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

/**
 * The address a socket to `ip` really reaches, as far as it can be known: IPv6 forms that embed
 * an IPv4 address become that address, so `::ffff:127.0.0.1` is checked as loopback.
 */
function normalize(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv4') return addr;
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const b = v6.toByteArray();
  switch (v6.range()) {
    case 'unicast':
      // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 2.5.5.1; `::1` and `::` have ranges of
      // their own): some stacks still route it to the IPv4 address.
      return b.slice(0, 12).every((x) => x === 0) ? ipaddr.fromByteArray(b.slice(12)) : v6;
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return ipaddr.fromByteArray(b.slice(12));
    case 'rfc6052':
      // NAT64 well-known prefix 64:ff9b::/96 carries the address in its last 32 bits. The
      // local-use 64:ff9b:1::/48 may embed it elsewhere: left as is, its range is refused.
      return b.slice(4, 12).every((x) => x === 0) ? ipaddr.fromByteArray(b.slice(12)) : v6;
    case '6to4': // 2002:AABB:CCDD::/48
      return ipaddr.fromByteArray(b.slice(2, 6));
    default:
      return v6;
  }
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
      if (ipaddr.isValid(entry)) {
        const addr = normalize(entry);
        this.cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
        // A bare IP is also a host name, as a URL spells it (`http://127.0.0.1:8000` may use http).
        this.hosts.add(ipaddr.parse(entry).toString());
      } else this.hosts.add(entry);
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
    return resolvingLookup((address, hostname) => this.checkAddress(address, hostname, port), resolver);
  }

  /**
   * The `lookup` for hosts the operator allowed: their addresses may be private, but never a
   * cloud metadata address, whatever the host resolves to at connect time.
   */
  metadataOnlyLookup(resolver: typeof dnsLookup = dnsLookup) {
    return resolvingLookup(refuseMetadata, resolver);
  }

  /** Checks a literal-IP host right away (sockets skip `lookup` for literals); metadata addresses even on allowed hosts. */
  checkLiteral(hostname: string, port?: string | number): void {
    const h = hostname.replace(/^\[|\]$/g, '');
    if (isIP(h)) this.checkAddress(h, hostname, port);
  }
}

function refuseMetadata(address: string, hostname: string): void {
  if (isMetadataAddress(address)) throw new SsrfError(`refused to connect to ${hostname}: cloud metadata address`);
}

/** A net/tls `lookup` that resolves every address of a name and runs `check` on each before any is used. */
function resolvingLookup(check: (address: string, hostname: string) => void, resolver: typeof dnsLookup) {
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
        for (const a of list) check(a.address, hostname);
      } catch (e) {
        return callback(e as NodeJS.ErrnoException, '', 0);
      }
      if (opts.all) return callback(null, list);
      const first = list[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
