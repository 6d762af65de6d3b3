import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { clusterMetrics, inByoWorker } from '../cluster/worker.js';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { HotHistogram } from './hot-histogram.js';

/**
 * Prometheus metrics (`GET /metrics`, prom-client). One registry per app, not prom-client's
 * global one, so several servers can run in one process (tests). Other subsystems get the
 * app's registry with `metricsFor(services).registry` and register their own metrics on it.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Proxied calls by source, provider and HTTP status (see proxiedCount()): plain counts, published when scraped. */
  private readonly proxied = new Map<ProxyAnswerSource, Map<string, Map<number, ProxiedCount>>>();

  /** From dispatching the upstream request to receiving its response headers. */
  readonly upstreamLatency = new HotHistogram(
    'byo_proxy_upstream_latency_seconds',
    'Time from sending a request upstream to receiving its response headers (time to first byte).',
    'provider',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    this.registry,
  );

  /** BYO's own time on a call: request arrival to upstream dispatch, plus upstream headers to client headers. */
  readonly overhead = new HotHistogram(
    'byo_proxy_overhead_seconds',
    "BYO's own time per proxied call: authentication, key lookup and header rewriting, excluding the provider's time.",
    'provider',
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    this.registry,
  );

  readonly usageWritten = new Counter({
    name: 'byo_usage_records_written_total',
    help: 'Usage records written to the database.',
    registers: [this.registry],
  });

  readonly usageDropped = new Counter({
    name: 'byo_usage_records_dropped_total',
    help: 'Proxied calls whose usage was dropped: the database stayed unreachable and the buffer was full, or through shutdown.',
    registers: [this.registry],
  });

  readonly usageRowsDropped = new Counter({
    name: 'byo_usage_rows_dropped_total',
    help: 'Usage roll-up rows the database refused for their data (reason invalid_data: SQLSTATE class 22; constraint: class 23), dropped so the rest of their batch is written.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly usageValuesRejected = new Counter({
    name: 'byo_usage_upstream_values_rejected_total',
    help: 'Token counts in provider responses that were not a non-negative integer up to 10^9, recorded as unknown, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly keyDecryptFailures = new Counter({
    name: 'byo_provider_key_decrypt_failures_total',
    help: 'Stored provider keys that failed to decrypt (wrong master key or tampered row).',
    registers: [this.registry],
  });

  readonly stalledClients = new Counter({
    name: 'byo_proxy_stalled_clients_total',
    help: 'Proxied responses cut off because the client read nothing for BYO_PROXY_IDLE_READ_TIMEOUT.',
    registers: [this.registry],
  });

  constructor(services: Pick<Services, 'keyCache'>) {
    const cache = services.keyCache;
    const proxied = this.proxied;
    new Counter({
      name: 'byo_proxy_requests_total',
      help: 'Proxied requests by provider, HTTP status and source of the answer (upstream, sandbox, byo).',
      labelNames: ['provider', 'status', 'source'] as const,
      registers: [this.registry],
      // Counted through proxiedCount() with a plain increment (prom-client's inc() hashes its labels
      // on every call), published here when scraped.
      collect() {
        this.reset();
        for (const [source, byProvider] of proxied)
          for (const [provider, byStatus] of byProvider)
            for (const [status, c] of byStatus) this.inc({ provider, status: String(status), source }, c.n);
      },
    });
    new Counter({
      name: 'byo_key_cache_lookups_total',
      help: 'Provider key cache lookups by result (hit, miss).',
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, cache.hits);
        this.inc({ result: 'miss' }, cache.misses);
      },
    });
    new Gauge({
      name: 'byo_key_cache_hit_ratio',
      help: 'Provider key cache hits / lookups since start.',
      registers: [this.registry],
      // BYO_WORKERS > 1: each worker has its own cache, and an average would count a fresh
      // worker's 0 as a miss; the ratio over all workers is rate(byo_key_cache_lookups_total).
      aggregator: 'omit',
      collect() {
        const total = cache.hits + cache.misses;
        this.set(total === 0 ? 0 : cache.hits / total);
      },
    });
    new Gauge({
      name: 'byo_key_cache_entries',
      help: 'Decrypted provider keys held in memory.',
      registers: [this.registry],
      collect() {
        this.set(cache.size);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The count of proxied calls with this provider, status and source: `.n++` per call. */
  proxiedCount(provider: string, status: number, source: ProxyAnswerSource): ProxiedCount {
    let byProvider = this.proxied.get(source);
    if (!byProvider) {
      byProvider = new Map();
      this.proxied.set(source, byProvider);
    }
    let byStatus = byProvider.get(provider);
    if (!byStatus) {
      byStatus = new Map();
      byProvider.set(provider, byStatus);
    }
    let c = byStatus.get(status);
    if (!c) {
      c = { n: 0 };
      byStatus.set(status, c);
    }
    return c;
  }
}

export type ProxyAnswerSource = 'upstream' | 'sandbox' | 'byo';

/** The counter of one (provider, status, source): `.n++` per proxied call. */
export interface ProxiedCount {
  n: number;
}

/** The metrics of one app (`services.metrics`, built with the services). */
export function metricsFor(services: Pick<Services, 'metrics'>): Metrics {
  return services.metrics;
}

/**
 * `GET /metrics` in the Prometheus text format. In a cluster worker (`BYO_WORKERS` > 1) the
 * answer covers all the workers that listen (counters and histograms summed), whichever worker a
 * scrape reaches.
 */
export function registerMetricsRoute(fastify: FastifyInstance, metrics: Metrics, config: Pick<Config, 'BYO_WORKERS'>): void {
  const collect = inByoWorker(config) ? clusterMetrics(metrics.registry) : () => metrics.registry.metrics();
  fastify.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    let body: string;
    try {
      body = await collect();
    } catch (err) {
      // The cluster primary did not answer (it is stopping, or overloaded): Prometheus retries.
      return reply
        .code(503)
        .type('text/plain')
        .send(`# metrics unavailable: ${(err as Error).message}; retry the scrape\n`);
    }
    return reply.type(metrics.registry.contentType).send(body);
  });
}
