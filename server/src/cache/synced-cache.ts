import type { Storage } from '../db/database.js';

export interface SyncedCacheOptions<V> {
  /** The LISTEN/NOTIFY channel invalidations travel on; one per kind of cached thing. */
  channel: string;
  /** How long an entry answers; 0 caches nothing. */
  ttlMs: number;
  /** At most this many entries; the oldest goes first. 0 caches nothing. */
  max: number;
  /** The clock expiry is read from (tests pass their own). */
  now?: () => number;
  /**
   * What an invalidation message drops: the id it names (the default), or, for a message that
   * names a group, a test of each cached value (the authenticator's `project:<id>`). `*` always
   * drops everything.
   */
  select?: (message: string) => string | ((value: V) => boolean);
}

interface Entry<V> {
  value: V;
  expires: number;
}

/** One database load of an id, shared by every caller that missed while it ran. */
interface Load<V> {
  promise: Promise<V | null | undefined>;
  /** Cleared when its id is invalidated while the load runs: its result is then not stored. */
  current: boolean;
  /** The cache's epoch when the load started; dropping more than one id starts a new epoch. */
  epoch: number;
}

/**
 * A bounded, expiring in-memory cache of values loaded from the database, kept consistent
 * across instances: a change anywhere calls `invalidate()`, which drops the entry here and
 * NOTIFYs every other instance, which drops it too.
 *
 * A lookup (`get`) is synchronous and allocates nothing, so hot paths can try it before any
 * await. A miss calls `load()`, which runs one loader per id however many callers miss at
 * once. A load that started before an invalidation of its id (here or on another instance)
 * may have read the old row and finish after it: its result goes to the callers already
 * waiting but is not stored, and callers arriving after the invalidation start a new load.
 * When the channel comes back after a loss (a new LISTEN connection), every entry and running
 * load is dropped, since invalidations sent meanwhile were missed; while it is down, entries
 * keep answering until they expire (a database outage does not stop what is cached).
 */
export class SyncedCache<V> {
  private readonly map = new Map<string, Entry<V>>();
  private readonly loads = new Map<string, Load<V>>();
  private epoch = 0;
  private readonly ttlMs: number;
  private readonly max: number;
  readonly channel: string;
  readonly now: () => number;
  private readonly select: ((message: string) => string | ((value: V) => boolean)) | undefined;
  hits = 0;
  misses = 0;

  constructor(
    private readonly storage: Storage,
    options: SyncedCacheOptions<V>,
  ) {
    this.channel = options.channel;
    this.ttlMs = options.ttlMs;
    this.max = options.max;
    this.now = options.now ?? Date.now;
    this.select = options.select;
  }

  async start(): Promise<void> {
    await this.storage.listen(
      this.channel,
      (message) => this.apply(message),
      (listening) => {
        if (listening) this.drop('*');
      },
    );
  }

  /** The cached value of `id`, or undefined when it is not cached or has expired (then `load` it). */
  get(id: string, now = this.now()): V | undefined {
    const e = this.map.get(id);
    if (e === undefined || e.expires <= now) {
      if (e !== undefined) this.map.delete(id);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.value;
  }

  /**
   * Runs `loader` for `id`, once however many callers miss at the same time, and stores its
   * result unless `id` was invalidated since it started. Not found (null or undefined) is not
   * stored, so creating a thing needs no invalidation; a loader that throws stores nothing.
   */
  load<R extends V | null | undefined>(id: string, loader: () => Promise<R>): Promise<R> {
    const pending = this.loads.get(id);
    if (pending) return pending.promise as Promise<R>;
    const load: Load<V> = { promise: Promise.resolve(undefined), current: true, epoch: this.epoch };
    const promise = loader()
      .then((value) => {
        if (value !== null && value !== undefined && load.current && load.epoch === this.epoch) this.set(id, value as V);
        return value;
      })
      .finally(() => {
        if (this.loads.get(id) === load) this.loads.delete(id);
      });
    load.promise = promise;
    this.loads.set(id, load);
    return promise;
  }

  private set(id: string, value: V): void {
    if (this.max === 0 || this.ttlMs === 0) return;
    if (this.map.size >= this.max && !this.map.has(id)) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(id, { value, expires: this.now() + this.ttlMs });
  }

  /** Drops the entry of `id` (`*`: every entry) here, and keeps loads running now from storing theirs. */
  drop(id: string): void {
    if (id === '*') {
      this.epoch++;
      this.map.clear();
      this.loads.clear();
      return;
    }
    this.map.delete(id);
    const load = this.loads.get(id);
    if (load) {
      load.current = false;
      this.loads.delete(id);
    }
  }

  /**
   * Drops every entry whose value passes `test`. Running loads cannot be tested (their value is
   * not known yet), so none of them is stored: a new epoch.
   */
  dropWhere(test: (value: V) => boolean): void {
    this.epoch++;
    this.loads.clear();
    for (const [id, e] of this.map) if (test(e.value)) this.map.delete(id);
  }

  /** Drops what `message` names here and on every other instance (call after the change committed). */
  async invalidate(message: string): Promise<void> {
    this.apply(message);
    await this.storage.notify(this.channel, message);
  }

  private apply(message: string): void {
    const target = message === '*' || !this.select ? message : this.select(message);
    if (typeof target === 'string') this.drop(target);
    else this.dropWhere(target);
  }

  get size(): number {
    return this.map.size;
  }
}
