import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

/**
 * Fuzzed base URLs may name arbitrary hosts; resolving them would send DNS queries off this
 * machine. While installed, every lookup of a name other than localhost fails with ENOTFOUND
 * (and is recorded), in this process, for the server under test too. A name in `answers`
 * resolves to its address instead (change the map to make a name resolve differently later).
 */
export function installDnsGuard(answers: Record<string, string> = {}): { blocked: string[]; restore: () => void } {
  const blocked: string[] = [];
  const origLookup = dns.lookup;
  const origPromisesLookup = dns.promises.lookup;
  const local = (h: string) => isIP(h) !== 0 || h === 'localhost' || h.endsWith('.localhost');
  const notFound = (h: string) => Object.assign(new Error(`getaddrinfo ENOTFOUND ${h}`), { code: 'ENOTFOUND', hostname: h });
  (dns as { lookup: unknown }).lookup = (hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, ...rest: unknown[]) => void;
    if (local(hostname)) return (origLookup as (...a: unknown[]) => void)(hostname, options, callback);
    const answer = answers[hostname];
    if (answer) {
      const family = isIP(answer);
      const all = typeof options === 'object' && (options as { all?: boolean } | null)?.all;
      process.nextTick(() => (all ? cb(null, [{ address: answer, family }]) : cb(null, answer, family)));
      return;
    }
    blocked.push(hostname);
    process.nextTick(() => cb(notFound(hostname)));
  };
  (dns.promises as { lookup: unknown }).lookup = async (hostname: string, options?: unknown) => {
    if (local(hostname)) return origPromisesLookup(hostname, options as dns.LookupAllOptions);
    const answer = answers[hostname];
    if (answer) {
      const one = { address: answer, family: isIP(answer) };
      return (options as { all?: boolean } | undefined)?.all ? [one] : one;
    }
    blocked.push(hostname);
    throw notFound(hostname);
  };
  syncBuiltinESMExports();
  return {
    blocked,
    restore() {
      (dns as { lookup: unknown }).lookup = origLookup;
      (dns.promises as { lookup: unknown }).lookup = origPromisesLookup;
      syncBuiltinESMExports();
    },
  };
}
