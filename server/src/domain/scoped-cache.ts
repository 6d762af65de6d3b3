import type { Storage } from '../db/database.js';

/**
 * A small cache of one value per project and mode (its price overrides, its limits), loaded
 * from the database on a miss and dropped on every instance when it changes: a write calls
 * `invalidate()`, which NOTIFYs `channel` (the same LISTEN/NOTIFY as the provider-key cache,
 * domain/key-cache.ts). When the channel comes back after a loss, every entry is dropped,
 * since changes made meanwhile were missed. `ttlMs` bounds how long an entry lives anyway.
 */
export class ScopedCache<T> {
  private readonly map = new Map<string, { value: T; expires: number }>();
  private readonly loads = new Map<string, { promise: Promise<T>; current: boolean }>();

  constructor(
    private readonly storage: Storage,
    private readonly channel: string,
    private readonly loader: (projectId: string, mode: string) => Promise<T>,
    private readonly ttlMs = 60_000,
    private readonly max = 100_000,
  ) {}

  async start(): Promise<void> {
    await this.storage.listen(
      this.channel,
      (id) => this.drop(id),
      (listening) => {
        if (listening) this.drop('*');
      },
    );
  }

  /** The cached value, without waiting; undefined on a miss (call `load`). */
  peek(projectId: string, mode: string, now = Date.now()): T | undefined {
    const e = this.map.get(`${projectId}|${mode}`);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.map.delete(`${projectId}|${mode}`);
      return undefined;
    }
    return e.value;
  }

  async get(projectId: string, mode: string): Promise<T> {
    const hit = this.peek(projectId, mode);
    return hit !== undefined ? hit : this.load(projectId, mode);
  }

  load(projectId: string, mode: string): Promise<T> {
    const id = `${projectId}|${mode}`;
    const pending = this.loads.get(id);
    if (pending) return pending.promise;
    const load: { promise: Promise<T>; current: boolean } = { promise: Promise.resolve(undefined as T), current: true };
    load.promise = this.loader(projectId, mode)
      .then((value) => {
        if (load.current) {
          if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
          this.map.set(id, { value, expires: Date.now() + this.ttlMs });
        }
        return value;
      })
      .finally(() => {
        if (this.loads.get(id) === load) this.loads.delete(id);
      });
    this.loads.set(id, load);
    return load.promise;
  }

  drop(id: string): void {
    if (id === '*') {
      this.map.clear();
      for (const l of this.loads.values()) l.current = false;
      this.loads.clear();
      return;
    }
    this.map.delete(id);
    const l = this.loads.get(id);
    if (l) {
      l.current = false;
      this.loads.delete(id);
    }
  }

  /** Drops the entry here and on every other instance (call after the change committed). */
  async invalidate(projectId: string, mode: string): Promise<void> {
    const id = `${projectId}|${mode}`;
    this.drop(id);
    await this.storage.notify(this.channel, id);
  }
}
