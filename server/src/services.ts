import type { Kysely } from 'kysely';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'undici';
import type { Authenticator } from './auth/authenticator.js';
import type { Config } from './config.js';
import type { Storage } from './db/database.js';
import type { Database, ProviderName } from './db/schema.js';
import type { ProviderKeyCache } from './domain/provider-key-cache.js';
import type { KeyWriteBatcher } from './domain/provider-key-writes.js';
import type { RateLimits } from './http/rate-limits.js';
import type { SsrfGuard } from './net/ssrf.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { Limits } from './limits/engine.js';
import type { PriceBook } from './pricing/overrides.js';
import type { ProviderSpec } from './providers/catalog.js';
import type { SignerDeps } from './providers/types.js';
import type { Vault } from './vault/vault.js';
import type { WebhookDispatcher } from './webhooks/dispatcher.js';
import type { RetentionPruner } from './webhooks/retention.js';
import type { WebhookSecretCache } from './webhooks/signing-secrets.js';

/** Long-lived dependencies, built once at start and handed to routes and domain functions. */
export interface Services {
  config: Config;
  logger: Logger;
  storage: Storage;
  db: Kysely<Database>;
  vault: Vault;
  auth: Authenticator;
  keyCache: ProviderKeyCache;
  /** The batched provider-key upsert of this server (domain/provider-key-writes.ts). */
  keyWrites: KeyWriteBatcher;
  /** This app's Prometheus registry and the proxy's counters (observability/metrics.ts). */
  metrics: Metrics;
  /** The address the HTTP server listens on, null before it does (the server's own origins, domain/server-origin.ts). */
  serverAddress: () => AddressInfo | string | null;
  /** The background workers this process runs, each set by its feature when it starts (absent when it does not run here). */
  running: { dispatcher?: WebhookDispatcher; retention?: RetentionPruner };
  /** Decrypted webhook signing secrets, for a minute (webhooks/signing-secrets.ts). */
  webhookSecrets: WebhookSecretCache;
  /** Each project's price overrides (pricing/overrides.ts). */
  prices: PriceBook;
  /** Spend limits and their counters (limits/engine.ts). */
  limits: Limits;
  providers: Record<ProviderName, ProviderSpec>;
  guard: SsrfGuard;
  agents: { trusted: Agent; guarded: Agent };
  /** What signed providers' signers use (dispatchers, allowed hosts, minted tokens): providers/types.ts. */
  signing: SignerDeps;
  rateLimits: RateLimits;
  /** Wakes the webhook dispatcher (set when it runs in this process). */
  onEventsCommitted: () => void;
  /** Writes this process's buffered usage records now (set by the proxy feature). */
  flushUsage?: () => Promise<void>;
}
