import { sql } from 'kysely';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { App } from '../app.js';
import { metricsFor } from '../observability/metrics.js';
import type { Services } from '../services.js';
import { EventsNotifier, WebhookDispatcher } from './dispatcher.js';

/** The dispatcher running for these services, if any (metrics, tests). */
export function dispatcherOf(services: Services): WebhookDispatcher | undefined {
  return services.running.dispatcher;
}

/**
 * The webhook dispatcher as a server feature: started with the server (unless BYO_WEBHOOKS is
 * false), woken by every commit that wrote events, stopped before the database closes.
 * The endpoints API is part of the router and works either way.
 */
export async function webhooksFeature(app: App): Promise<void> {
  const { services } = app;
  if (!services.config.BYO_WEBHOOKS) {
    // No dispatcher here: still wake the instances that run one (PostgreSQL).
    const notifier = new EventsNotifier(services);
    services.onEventsCommitted = () => notifier.notify();
    app.onClose(() => {
      services.onEventsCommitted = () => {};
      notifier.close();
    });
    return;
  }
  const registry = metricsFor(services).registry;
  const duration = new Histogram({
    name: 'byo_webhook_attempt_duration_seconds',
    help: 'Time from sending a webhook POST to its answer (or failure), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const dispatcher = new WebhookDispatcher(services, {
    onAttempt: (r) => duration.observe({ outcome: r.ok ? 'succeeded' : 'failed' }, r.latencyMs / 1000),
  });
  new Counter({
    name: 'byo_webhook_attempts_total',
    help: 'Webhook delivery attempts made by this process, by outcome (succeeded, failed, released at shutdown).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'succeeded' }, dispatcher.stats.succeeded);
      this.inc({ outcome: 'failed' }, dispatcher.stats.failed);
      this.inc({ outcome: 'released' }, dispatcher.stats.released);
    },
  });
  new Gauge({
    name: 'byo_webhook_in_flight',
    help: 'Webhook attempts in flight in this process.',
    registers: [registry],
    collect() {
      this.set(dispatcher.inFlight);
    },
  });
  new Gauge({
    name: 'byo_webhook_pending_deliveries',
    help: 'Webhook deliveries waiting to be sent or retried, across all instances (a growing number means receivers are failing or the dispatcher is behind).',
    registers: [registry],
    aggregator: 'max', // a database count: every worker of a cluster reads the same one
    async collect() {
      const r = await sql<{ n: string }>`select count(*) as n from webhook_deliveries where status = 'pending'`
        .execute(services.db)
        .catch(() => null);
      if (r) this.set(Number(r.rows[0]?.n ?? 0));
    },
  });
  await dispatcher.start();
  services.running.dispatcher = dispatcher;
  services.onEventsCommitted = () => dispatcher.eventsCommitted();
  app.onClose(async () => {
    services.onEventsCommitted = () => {};
    await dispatcher.stop();
  });
}
