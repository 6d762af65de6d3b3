import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One worker's metrics as prom-client's `getMetricsAsJSON()` gives them. */
export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** What the cluster primary and its workers tell each other over IPC (`BYO_WORKERS` > 1). */
export type ClusterMessage =
  /** A worker listens; the primary prints the banner once all of them do. */
  | { type: 'byo:ready'; url: string }
  /** A worker was asked for `/metrics`: the primary collects them from every worker that listens. */
  | { type: 'byo:metrics'; id: number }
  | { type: 'byo:metrics-result'; id: number; body?: string; error?: string }
  /** The primary asks one worker for its own metrics, and the answer. */
  | { type: 'byo:metrics-part'; id: number }
  | { type: 'byo:metrics-part-result'; id: number; metrics: WorkerMetrics };

export function isClusterMessage(msg: unknown): msg is ClusterMessage {
  if (typeof msg !== 'object' || msg === null) return false;
  const { type } = msg as { type?: unknown };
  return typeof type === 'string' && type.startsWith('byo:');
}
