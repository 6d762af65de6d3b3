import { Counter } from 'prom-client';
import type { App } from '../app.js';
import { metricsFor } from '../observability/metrics.js';
import { KeyHealthScheduler } from './scheduler.js';

/**
 * Scheduled key health checks in this process (docs/key-health.md): off when
 * BYO_KEY_HEALTH_INTERVAL is 0. Each worker and instance runs the scheduler; the claims in
 * PostgreSQL keep it to one check per key per interval.
 */
export function keyHealthFeature(app: App): void {
  const { services } = app;
  const { config } = services;
  if (config.BYO_KEY_HEALTH_INTERVAL === 0) {
    services.logger.debug('key health: BYO_KEY_HEALTH_INTERVAL=0, scheduled key checks are off');
    return;
  }
  const checks = new Counter({
    name: 'byo_key_health_checks_total',
    help: 'Scheduled provider key checks this process made, by provider and outcome (valid, invalid, unreachable).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [metricsFor(services).registry],
  });
  const scheduler = new KeyHealthScheduler(services, {
    intervalMs: config.BYO_KEY_HEALTH_INTERVAL,
    disableAfter: config.BYO_KEY_DISABLE_AFTER,
    concurrency: config.BYO_KEY_HEALTH_CONCURRENCY,
    onCheck: (provider, outcome) => checks.inc({ provider, outcome }),
  });
  scheduler.start();
  app.onClose(() => scheduler.stop());
}
