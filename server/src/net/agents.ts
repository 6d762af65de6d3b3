import { Agent, buildConnector } from 'undici';
import type { SsrfGuard } from './ssrf.js';

export interface AgentOptions {
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  /** Connections per origin (BYO_UPSTREAM_CONNECTIONS; the proxy's per-project caps stay below it). Unset: no limit. */
  connections?: number;
}

/**
 * Keep-alive pools per origin (undici Agent). `trusted` serves operator-configured provider
 * bases; `guarded` serves customer-supplied base URLs and webhook URLs, with the SSRF policy
 * checked inside the connector at every new connection.
 */
export function createTrustedAgent(opts: AgentOptions): Agent {
  return new Agent({
    connect: { timeout: opts.connectTimeout },
    headersTimeout: opts.headersTimeout,
    bodyTimeout: opts.bodyTimeout,
    keepAliveTimeout: 30_000,
    connections: opts.connections,
  });
}

export function createGuardedAgent(guard: SsrfGuard, opts: AgentOptions, resolver?: Parameters<SsrfGuard['lookupFor']>[1]): Agent {
  // Operator-allowed hosts skip the private-address checks, never the metadata one.
  const allowed = buildConnector({ timeout: opts.connectTimeout, lookup: guard.metadataOnlyLookup(resolver) } as never);
  const checked = buildConnector({ timeout: opts.connectTimeout, lookup: guard.lookupFor(undefined, resolver) } as never);
  return new Agent({
    headersTimeout: opts.headersTimeout,
    bodyTimeout: opts.bodyTimeout,
    keepAliveTimeout: 30_000,
    connections: opts.connections,
    connect: (options, callback) => {
      const { hostname, port } = options;
      try {
        guard.checkLiteral(hostname, port);
      } catch (err) {
        return callback(err as Error, null);
      }
      return guard.hostAllowed(hostname, port) ? allowed(options, callback) : checked(options, callback);
    },
  });
}
