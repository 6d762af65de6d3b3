/** What the cluster primary and its workers tell each other over IPC (`BYO_WORKERS` > 1). */
export type ClusterMessage =
  /** A worker listens; the primary prints the banner once all of them do. */
  | { type: 'byo:ready'; url: string }
  /** A worker was asked for `/metrics`: the primary collects them from every worker. */
  | { type: 'byo:metrics'; id: number }
  | { type: 'byo:metrics-result'; id: number; body?: string; error?: string };

export function isClusterMessage(msg: unknown): msg is ClusterMessage {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    typeof (msg as { type?: unknown }).type === 'string' &&
    (msg as { type: string }).type.startsWith('byo:')
  );
}
