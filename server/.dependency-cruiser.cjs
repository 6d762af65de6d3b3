// The import boundaries of server/src (docs/architecture.md, "Layers"), checked by `pnpm lint`
// with dependency-cruiser: a forbidden import fails lint with the rule's name and comment,
// e.g. "domain-not-webhooks: domain must not import webhooks".
//
// RULES is the one table of the boundaries. A rule names a folder (or top-level file, without
// .ts) and the paths under src it must not import; a path matches itself and everything under
// it, and a folder may always import inside itself. Lower layers never reach up, so a change in
// an upper layer cannot break them. test/architecture/boundaries.test.ts reads these same rules
// and applies them with its own import scanner, so the two checks cannot drift apart.
const UPPER = ['app', 'features', 'server', 'services', 'http', 'trpc', 'connect-embed', 'docs-page'];
const RULES = {
  // Pure: provider specs and wire shapes, zod schemas. Row and provider names from db/schema.ts only.
  providers: [...UPPER, 'domain', 'db/database', 'db/migrate', 'cache', 'vault', 'auth', 'usage', 'webhooks', 'proxy'],
  schemas: [...UPPER, 'domain', 'db/database', 'db/migrate', 'cache', 'vault', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox'],
  sandbox: [...UPPER, 'domain', 'db/database', 'db/migrate', 'cache', 'vault', 'auth', 'usage', 'webhooks', 'proxy'],
  // Storage and primitives.
  db: [...UPPER, 'domain', 'cache', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox'],
  // The one cache invalidated across instances (LISTEN/NOTIFY through db/), for auth and the domain.
  cache: [...UPPER, 'domain', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox', 'providers', 'vault', 'net'],
  vault: [...UPPER, 'domain', 'db', 'cache', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox', 'providers'],
  net: [...UPPER, 'domain', 'db', 'cache', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox', 'providers'],
  errors: [...UPPER, 'domain', 'auth', 'usage', 'webhooks', 'proxy', 'sandbox'],
  auth: [...UPPER, 'domain', 'usage', 'webhooks', 'proxy', 'sandbox'],
  usage: [...UPPER, 'domain', 'webhooks', 'proxy', 'sandbox'],
  // The domain: used by the API, the proxy and webhooks; uses none of them (`Services` is its input).
  domain: [...UPPER.filter((u) => u !== 'services'), 'webhooks', 'proxy', 'sandbox', 'usage'],
  // Consumers of the domain, beside each other: none imports another.
  webhooks: [...UPPER.filter((u) => u !== 'app' && u !== 'services'), 'proxy', 'sandbox'],
  'key-health': [...UPPER.filter((u) => u !== 'app' && u !== 'services'), 'proxy', 'sandbox', 'webhooks'],
  proxy: ['trpc', 'connect-embed', 'docs-page', 'webhooks'],
  trpc: ['http', 'connect-embed', 'docs-page', 'proxy', 'sandbox'],
  'connect-embed': ['http', 'trpc', 'docs-page', 'proxy', 'webhooks', 'sandbox'],
};

/** `src/<path>.ts` or anything under `src/<path>/` (paths are relative to server/). */
const under = (path) => `^src/${path.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(\\.ts$|/)`;

module.exports = {
  forbidden: Object.entries(RULES).flatMap(([owner, banned]) =>
    banned.map((b) => ({
      name: `${owner}-not-${b.replace('/', '-')}`,
      comment: `${owner} must not import ${b}`,
      severity: 'error',
      from: { path: under(owner) },
      to: { path: under(b), pathNot: under(owner) },
    })),
  ),
  options: {
    // Type-only imports count: a layer must not know an upper layer's types either.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages are not layers.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
  },
};
