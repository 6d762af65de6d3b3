import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import type { Database } from './schema.js';

/**
 * The storage handle: kysely over `pg` when DATABASE_URL is set, else an embedded PGlite.
 * It also carries a tiny pub/sub used to invalidate caches across instances
 * (PostgreSQL LISTEN/NOTIFY; PGlite is single-process, so its own listen works).
 */
export interface Storage {
  db: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  /** The connection pool behind `db` on PostgreSQL (for the connect rate limits' counters); absent on PGlite. */
  pool?: pg.Pool;
  /** Queries run through `db` since start (tests prove a path runs none). */
  readonly stats: { queries: number };
  ping(): Promise<void>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Calls `onMessage` for every notification on `channel`. `onListening(false)` says the
   * connection carrying notifications was lost (or could not be opened): messages sent from
   * then on may never arrive; `onListening(true)` says it is listening again. PGlite never
   * loses it.
   */
  listen(channel: string, onMessage: (payload: string) => void, onListening?: (listening: boolean) => void): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  databaseUrl?: string | undefined;
  schema?: string | undefined;
  dataDir: string;
  memory: boolean;
  logger: Logger;
  poolSize?: number;
  /**
   * Client-side limit for one query on PostgreSQL. A network partition leaves sockets open and
   * silent; without it a request would wait for the database forever.
   */
  queryTimeoutMs?: number | undefined;
}

/**
 * A PGlite data-directory image (`dumpDataDir`) taken right after initdb. When set, in-memory
 * embedded databases load it instead of running initdb, which takes 4-10 s on a 2-CPU machine
 * against about 1 s to load. Only the test harness sets it (test/helpers/pglite-image.ts);
 * every server still runs its migrations on the loaded, empty cluster.
 */
let memoryImage: Blob | undefined;

export function startInMemoryDatabasesFrom(image: Blob | undefined): void {
  memoryImage = image;
}

export async function openStorage(opts: StorageOptions): Promise<Storage> {
  return opts.databaseUrl ? openPostgres(opts as StorageOptions & { databaseUrl: string }) : openPglite(opts);
}

/** Counts queries through kysely's log hook; never looks at the query or its parameters. */
function queryCounter(): { stats: { queries: number }; log: () => void } {
  const stats = { queries: 0 };
  return {
    stats,
    log: () => {
      stats.queries++;
    },
  };
}

function channelName(base: string, schema: string | undefined): string {
  return schema ? `${base}_${schema}` : base;
}

async function openPostgres(opts: StorageOptions & { databaseUrl: string }): Promise<Storage> {
  const { logger, schema } = opts;
  if (schema) {
    const admin = new pg.Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 5000 });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await admin.end();
    }
  }
  const clientOptions = {
    connectionString: opts.databaseUrl,
    connectionTimeoutMillis: 3000,
    // Dead peers are noticed on idle connections too (the LISTEN connection is always idle).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  const pool = new pg.Pool({ ...clientOptions, max: opts.poolSize ?? 20, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process.
  pool.on('error', (err) => logger.warn({ err }, 'postgres pool client error'));
  // A query that timed out leaves its connection in an unknown state (still waiting for the
  // answer, maybe inside a transaction whose ROLLBACK never went out). Close it, so the pool
  // drops it instead of handing it to the next request; PostgreSQL then rolls back whatever
  // that connection had open.
  pool.on('connect', (client) => {
    // The pool listens for errors only while a client is idle: a connection lost while a
    // request holds it (between two queries of a transaction) would be an uncaught 'error'
    // event, and end the process. The query in flight, if any, fails with the error anyway.
    client.on('error', (err) => logger.warn({ err }, 'postgres connection lost'));
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise)
        result.catch((err: unknown) => {
          if ((err as Error | null)?.message === 'Query read timeout')
            (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        });
      return result;
    };
  });
  const counter = queryCounter();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: counter.log });

  const listeners = new Map<string, Set<(p: string) => void>>();
  let listenClient: pg.Client | undefined;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  const listeningHandlers = new Set<(listening: boolean) => void>();
  let listening = true;
  const setListening = (value: boolean) => {
    if (listening === value) return;
    listening = value;
    for (const fn of listeningHandlers) fn(value);
  };

  const connectListener = async (): Promise<void> => {
    if (closed || listeners.size === 0) return;
    const client = new pg.Client(clientOptions);
    // Only the connection in use: a failed connect is retried below, and a replaced one is done.
    client.on('error', (err) => {
      if (client !== listenClient) return;
      logger.warn({ err }, 'postgres listen connection lost; reconnecting');
      scheduleReconnect();
    });
    client.on('end', () => {
      if (client === listenClient) scheduleReconnect();
    });
    client.on('notification', (msg) => {
      const set = listeners.get(msg.channel);
      if (set && msg.payload !== undefined) for (const fn of set) fn(msg.payload);
    });
    try {
      await client.connect();
      for (const ch of listeners.keys()) await client.query(`LISTEN "${ch}"`);
      listenClient = client;
      setListening(true);
    } catch (err) {
      logger.warn({ err }, 'postgres listen connection failed; retrying');
      client.removeAllListeners('end');
      client.end().catch(() => {});
      scheduleReconnect();
    }
  };
  const scheduleReconnect = () => {
    if (closed) return;
    setListening(false);
    if (reconnectTimer) return;
    listenClient = undefined;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connectListener();
    }, 500);
    reconnectTimer.unref();
  };

  return {
    db,
    kind: 'postgres',
    pool,
    stats: counter.stats,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async notify(channel, payload) {
      await sql`select pg_notify(${channelName(channel, schema)}, ${payload})`.execute(db);
    },
    async listen(channel, onMessage, onListening) {
      const ch = channelName(channel, schema);
      if (onListening) listeningHandlers.add(onListening);
      let set = listeners.get(ch);
      if (!set) {
        set = new Set();
        listeners.set(ch, set);
        if (listenClient) await listenClient.query(`LISTEN "${ch}"`);
      }
      set.add(onMessage);
      if (!listenClient && !reconnectTimer) await connectListener();
    },
    async close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (listenClient) {
        listenClient.removeAllListeners('end');
        await listenClient.end().catch(() => {});
      }
      await db.destroy();
    },
  };
}

async function openPglite(opts: StorageOptions): Promise<Storage> {
  let client: PGlite;
  if (opts.memory) {
    client = memoryImage ? new PGlite({ loadDataDir: memoryImage }) : new PGlite();
  } else {
    const dir = join(opts.dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    client = new PGlite(dir);
  }
  await client.waitReady;
  const counter = queryCounter();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client), log: counter.log });
  return {
    db,
    kind: 'pglite',
    stats: counter.stats,
    // Through kysely, so these queue behind an open transaction instead of joining it.
    async ping() {
      await sql`select 1`.execute(db);
    },
    async notify(channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    async listen(channel, onMessage) {
      await client.listen(channel, onMessage);
    },
    async close() {
      await db.destroy().catch(() => {});
      if (!client.closed) await client.close();
    },
  };
}
