import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.js';
import { migrateConfigured } from '../db/migrate.js';
import type { Logger } from '../observability/logger.js';
import { type ClusterMessage, isClusterMessage } from './messages.js';

/** A worker that keeps crashing this often is a fault to report, not one to retry forever. */
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_IN_WINDOW = 5;

/**
 * `BYO_WORKERS` > 1: this process runs no server itself. It applies the migrations once, forks
 * the workers (each a whole BYO server; node:cluster shares the listening port between them),
 * prints the banner when all of them listen, answers their `/metrics` with the sum over all
 * workers, replaces a worker that dies, and stops them all on SIGTERM/SIGINT.
 *
 * Resolves with the exit code once every worker has exited.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<number> {
  await migrateConfigured(config, logger);

  const aggregator = new AggregatorRegistry();
  const want = config.BYO_WORKERS;
  const ready = new Set<number>();
  const restarts: number[] = [];
  let announced = false;
  let stopping = false;
  let exitCode = 0;

  return new Promise<number>((resolve) => {
    const fork = (replacement = false): Worker => {
      const worker = cluster.fork();
      worker.on('message', (msg: unknown) => {
        if (!isClusterMessage(msg)) return;
        if (msg.type === 'byo:ready') {
          ready.add(worker.id);
          if (replacement) logger.info({ workerPid: worker.process.pid }, 'the replacement worker is listening');
          if (!announced && ready.size === want) {
            announced = true;
            process.stderr.write(`\nBYO server listening on ${msg.url} (PostgreSQL, ${want} workers, primary pid ${process.pid})\n`);
          }
        } else if (msg.type === 'byo:metrics') {
          aggregator.clusterMetrics().then(
            (body) => send(worker, { type: 'byo:metrics-result', id: msg.id, body }),
            (err: Error) => send(worker, { type: 'byo:metrics-result', id: msg.id, error: err.message }),
          );
        }
      });
      return worker;
    };

    cluster.on('exit', (worker, code, signal) => {
      const wasReady = ready.delete(worker.id);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && (restarts[0] ?? 0) < now - RESTART_WINDOW_MS) restarts.shift();
      if (!wasReady || restarts.length >= MAX_RESTARTS_IN_WINDOW) {
        // It never started (bad configuration, database unreachable) or it keeps crashing.
        logger.error(
          { workerPid: worker.process.pid, code, signal },
          wasReady ? 'a worker keeps crashing; stopping the server' : 'a worker could not start; stopping the server',
        );
        exitCode = typeof code === 'number' && code !== 0 ? code : 1;
        stop();
        return;
      }
      restarts.push(now);
      logger.error({ workerPid: worker.process.pid, code, signal }, 'a worker died; starting a replacement');
      fork(true);
    });

    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) resolve(exitCode);
      // Each worker finishes its in-flight requests (graceful stop, like a single server).
      for (const w of workers) w?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    for (let i = 0; i < want; i++) fork();
  });
}

function send(worker: Worker, msg: ClusterMessage): void {
  if (worker.isConnected()) worker.send(msg);
}
