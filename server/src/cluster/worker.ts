import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { type ClusterMessage, isClusterMessage } from './messages.js';

/** True in a worker forked by the cluster primary (`BYO_WORKERS` > 1). */
export const inWorker = cluster.isWorker;

/** Tells the primary this worker listens. */
export function announceReady(url: string): void {
  process.send?.({ type: 'byo:ready', url } satisfies ClusterMessage);
}

const pending = new Map<number, { resolve: (body: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
let nextId = 0;
let listening = false;

/**
 * Makes this worker's registry the one the primary collects (prom-client's cluster protocol)
 * and returns a function that yields the metrics of all workers, aggregated by the primary.
 */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  if (!listening) {
    listening = true;
    // Constructing one is what makes prom-client answer the primary's requests in a worker.
    new AggregatorRegistry();
    process.on('message', (msg: unknown) => {
      if (!isClusterMessage(msg) || msg.type !== 'byo:metrics-result') return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.body !== undefined) p.resolve(msg.body);
      else p.reject(new Error(msg.error ?? 'no metrics from the cluster primary'));
    });
  }
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      // prom-client gives up on a silent worker after 5 s; this waits a little longer.
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer with metrics'));
      }, 6_000);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      process.send?.({ type: 'byo:metrics', id } satisfies ClusterMessage);
    });
}
