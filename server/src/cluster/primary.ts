import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, Registry } from 'prom-client';
import type { Config } from '../config.js';
import { migrateConfigured } from '../db/migrate.js';
import type { Logger } from '../observability/logger.js';
import { type ClusterMessage, isClusterMessage, type WorkerMetrics } from './messages.js';

/** A worker that keeps crashing this often is a fault to report, not one to retry forever. */
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_IN_WINDOW = 5;
/** How long a scrape waits for the workers' metrics; a stuck worker is left out, not waited for. */
const METRICS_TIMEOUT_MS = 2_000;

/**
 * `BYO_WORKERS` > 1: this process runs no server itself. It applies the migrations before it
 * forks the workers (each a whole BYO server; node:cluster shares the listening port between
 * them), prints the banner when all of them listen, answers their `/metrics` with the sum over
 * the workers that listen, replaces a worker that dies, and stops them all on SIGTERM/SIGINT.
 *
 * Resolves with the exit code once every worker has exited.
 */
export function runPrimary(config: Config, logger: Logger): Promise<number> {
  const want = config.BYO_WORKERS;
  const live = new Set<Worker>();
  const ready = new Set<Worker>();
  const restarts: number[] = [];
  let announced = false;
  let stopping = false;
  let exitCode = 0;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) finish(exitCode);
    // Each worker finishes its in-flight requests (graceful stop, like a single server).
    for (const w of live) w.process.kill('SIGTERM');
  };
  // Before the migrations: a stop asked for meanwhile starts no worker.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const metrics = new MetricsCollector(ready, want);

  const fork = (replacement = false): void => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('message', (msg: unknown) => {
      if (!isClusterMessage(msg)) return;
      if (msg.type === 'byo:ready') {
        ready.add(worker);
        if (replacement) logger.info({ workerPid: worker.process.pid }, 'the replacement worker is listening');
        if (!announced && ready.size === want) {
          announced = true;
          process.stderr.write(`\nBYO server listening on ${msg.url} (PostgreSQL, ${want} workers, primary pid ${process.pid})\n`);
        }
      } else if (msg.type === 'byo:metrics') {
        metrics.collect().then(
          (body) => send(worker, { type: 'byo:metrics-result', id: msg.id, body }),
          (err: Error) => send(worker, { type: 'byo:metrics-result', id: msg.id, error: err.message }),
        );
      } else if (msg.type === 'byo:metrics-part-result') {
        metrics.received(msg.id, worker, msg.metrics);
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      const wasReady = ready.delete(worker);
      if (stopping) {
        // A worker that did not stop cleanly (its 25 s force exit, an error while closing) fails the
        // stop; a failure that caused the stop (a worker that could not start) keeps its own code.
        if (code !== 0 && signal !== 'SIGTERM') {
          logger.error({ workerPid: worker.process.pid, code, signal }, 'a worker exited with an error while the server stopped');
          if (exitCode === 0) exitCode = 1;
        }
        if (live.size === 0) finish(exitCode);
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
  };

  migrateConfigured(config, logger).then(
    () => {
      if (stopping) return finish(exitCode);
      for (let i = 0; i < want; i++) fork();
    },
    (err: unknown) => {
      logger.error({ err }, 'could not apply the database migrations');
      finish(1);
    },
  );
  return done;
}

/**
 * `/metrics` for a cluster: asks every worker that listens for its registry and sums them
 * (prom-client's aggregation: counters and histograms summed, each metric's `aggregator`
 * otherwise). A worker that does not answer in time is left out, and
 * `byo_cluster_workers_reporting` says how many answered.
 */
class MetricsCollector {
  private nextId = 0;
  private readonly rounds = new Map<number, { waiting: Set<Worker>; parts: WorkerMetrics[]; end: () => void }>();

  constructor(
    private readonly ready: ReadonlySet<Worker>,
    private readonly want: number,
  ) {}

  collect(): Promise<string> {
    const id = this.nextId++;
    const waiting = new Set([...this.ready].filter((w) => w.isConnected()));
    const parts: WorkerMetrics[] = [];
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => end(), METRICS_TIMEOUT_MS);
      const end = () => {
        clearTimeout(timer);
        this.rounds.delete(id);
        this.render(parts).then(resolve, reject);
      };
      this.rounds.set(id, { waiting, parts, end });
      if (waiting.size === 0) return end();
      for (const w of waiting) send(w, { type: 'byo:metrics-part', id });
    });
  }

  received(id: number, worker: Worker, metrics: WorkerMetrics): void {
    const round = this.rounds.get(id);
    if (!round?.waiting.delete(worker)) return;
    round.parts.push(metrics);
    if (round.waiting.size === 0) round.end();
  }

  private async render(parts: WorkerMetrics[]): Promise<string> {
    const own = new Registry();
    new Gauge({ name: 'byo_cluster_workers', help: 'Worker processes configured (BYO_WORKERS).', registers: [own] }).set(this.want);
    new Gauge({
      name: 'byo_cluster_workers_reporting',
      help: 'Workers whose metrics this scrape includes (a worker starting or not answering is left out).',
      registers: [own],
    }).set(parts.length);
    const merged = Registry.merge([AggregatorRegistry.aggregate(parts), own]);
    return merged.metrics();
  }
}

function send(worker: Worker, msg: ClusterMessage): void {
  if (worker.isConnected()) worker.send(msg);
}
