import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { type ClusterMessage, isClusterMessage } from './messages.js';

/**
 * True in a worker forked by BYO's cluster primary (`BYO_WORKERS` > 1). A process that another
 * cluster manager forked (PM2's cluster mode) with BYO_WORKERS=1 is a standalone server.
 */
export function inByoWorker(config: Pick<Config, 'BYO_WORKERS'>): boolean {
  return cluster.isWorker && config.BYO_WORKERS > 1;
}

/** Tells the primary this worker listens. */
export function announceReady(url: string): void {
  process.send?.({ type: 'byo:ready', url } satisfies ClusterMessage);
}

const pending = new Map<number, { resolve: (body: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
let nextId = 0;
let registry: Registry | null = null;

function onMessage(msg: unknown): void {
  if (!isClusterMessage(msg)) return;
  if (msg.type === 'byo:metrics-part') {
    // The primary collects this worker's own metrics for a scrape that reached any worker.
    const own = registry;
    if (!own) return;
    void own.getMetricsAsJSON().then((metrics) => {
      if (process.connected) process.send?.({ type: 'byo:metrics-part-result', id: msg.id, metrics } satisfies ClusterMessage);
    });
  } else if (msg.type === 'byo:metrics-result') {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.body !== undefined) p.resolve(msg.body);
    else p.reject(new Error(msg.error ?? 'no metrics from the cluster primary'));
  }
}

/**
 * Serves this worker's registry to the primary and returns a function that yields the metrics
 * of all the workers that listen, aggregated by the primary.
 */
export function clusterMetrics(own: Registry): () => Promise<string> {
  if (!registry) process.on('message', onMessage);
  registry = own;
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      // The primary answers within its own collection timeout; this is the backstop.
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer with metrics'));
      }, 5_000);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      process.send?.({ type: 'byo:metrics', id } satisfies ClusterMessage);
    });
}
