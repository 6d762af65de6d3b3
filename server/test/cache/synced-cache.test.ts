import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncedCache, type SyncedCacheOptions } from '../../src/cache/synced-cache.js';
import { openStorage, type Storage } from '../../src/db/database.js';

/**
 * The one cache behind the authenticator, the provider-key cache and the per-project caches
 * (prices, limits). Their own tests cover what they add (test/proxy/key-cache.test.ts,
 * key-races, multi-instance); this one covers the cache itself.
 */

/** A storage whose pub/sub the test drives: `listening(up)` is the LISTEN connection going down or coming back. */
function fakeStorage() {
  const handlers: ((p: string) => void)[] = [];
  const ups: ((up: boolean) => void)[] = [];
  const sent: string[] = [];
  const storage = {
    async listen(_channel: string, fn: (p: string) => void, up?: (listening: boolean) => void) {
      handlers.push(fn);
      if (up) ups.push(up);
    },
    async notify(_channel: string, payload: string) {
      sent.push(payload);
    },
  } as unknown as Storage;
  return {
    storage,
    sent,
    message: (p: string) => {
      for (const h of handlers) h(p);
    },
    listening: (up: boolean) => {
      for (const u of ups) u(up);
    },
  };
}

interface Item {
  project: string;
  v: string;
}

async function started(options: Partial<SyncedCacheOptions<Item>> = {}) {
  const f = fakeStorage();
  let t = 1_000;
  const cache = new SyncedCache<Item>(f.storage, { channel: 'c', ttlMs: 100, max: 3, now: () => t, ...options });
  await cache.start();
  const put = (id: string, v: string, project = 'p1') => cache.load(id, async () => ({ project, v }));
  return { cache, put, tick: (ms: number) => (t += ms), ...f };
}

/** A load the test finishes when it wants. */
function slowLoad() {
  let finish: (v: Item | null) => void = () => {};
  const loader = () =>
    new Promise<Item | null>((r) => {
      finish = r;
    });
  return { loader, finish: (v: Item | null) => finish(v) };
}

describe('SyncedCache', () => {
  it('answers until ttlMs has passed on its clock, then misses (and counts both)', async () => {
    const { cache, put, tick } = await started();
    await put('a', '1');
    tick(99);
    expect(cache.get('a')?.v).toBe('1');
    tick(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });

  it('holds at most max entries, dropping the oldest first; 0 for max or ttlMs caches nothing', async () => {
    const { cache, put } = await started();
    for (const id of ['a', 'b', 'c', 'd']) await put(id, id);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((id) => cache.get(id)?.v)).toEqual(['b', 'c', 'd']);
    await put('b', 'b2'); // replacing an entry evicts nothing
    expect(cache.size).toBe(3);
    for (const off of [{ max: 0 }, { ttlMs: 0 }]) {
      const z = await started(off);
      await expect(z.put('a', '1')).resolves.toMatchObject({ v: '1' });
      expect(z.cache.get('a')).toBeUndefined();
    }
  });

  it('runs one load for concurrent misses; not found and failures are not stored', async () => {
    const { cache } = await started();
    let calls = 0;
    const loader = async () => ({ project: 'p1', v: String(++calls) });
    const [x, y] = await Promise.all([cache.load('a', loader), cache.load('a', loader)]);
    expect([x?.v, y?.v, calls]).toEqual(['1', '1', 1]);
    await cache.load('n', async () => null);
    expect(cache.get('n')).toBeUndefined();
    await expect(cache.load('e', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(cache.load('e', async () => ({ project: 'p1', v: 'ok' }))).resolves.toMatchObject({ v: 'ok' });
    expect(cache.get('e')?.v).toBe('ok');
  });

  it('a load that overlaps an invalidation of its id is not stored; one of another id is', async () => {
    const { cache, message } = await started();
    const stale = slowLoad();
    const other = slowLoad();
    const before = cache.load('a', stale.loader);
    const unrelated = cache.load('b', other.loader);
    message('a');
    const fresh = slowLoad();
    const after = cache.load('a', fresh.loader); // a new load, not the stale one
    stale.finish({ project: 'p1', v: 'stale' });
    other.finish({ project: 'p1', v: 'b' });
    expect((await before)?.v).toBe('stale'); // its caller still gets it
    await unrelated;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.v).toBe('b');
    fresh.finish({ project: 'p1', v: 'new' });
    await after;
    expect(cache.get('a')?.v).toBe('new');
  });

  it('invalidate() drops here and notifies; select() turns a message into a test of values', async () => {
    const { cache, put, sent, message } = await started({
      max: 10,
      select: (m) => (m.startsWith('project:') ? (item) => item.project === m.slice(8) : m),
    });
    await put('a', 'a', 'p1');
    await put('b', 'b', 'p2');
    await put('c', 'c', 'p1');
    await cache.invalidate('a');
    expect(sent).toEqual(['a']);
    expect(cache.get('a')).toBeUndefined();
    const running = slowLoad();
    const p = cache.load('d', running.loader);
    message('project:p1');
    expect([cache.get('b')?.v, cache.get('c')]).toEqual(['b', undefined]);
    running.finish({ project: 'p2', v: 'd' }); // its value was unknown when the project changed
    await p;
    expect(cache.get('d')).toBeUndefined();
  });

  it('keeps answering while the channel is down; when it is back drops everything, running loads included', async () => {
    const { cache, put, listening } = await started();
    await put('a', '1');
    listening(false);
    expect(cache.get('a')?.v).toBe('1');
    const straddling = slowLoad();
    const p = cache.load('b', straddling.loader);
    listening(true);
    expect(cache.get('a')).toBeUndefined();
    straddling.finish({ project: 'p1', v: 'b' });
    await p;
    expect(cache.get('b')).toBeUndefined();
    await put('a', '2');
    expect(cache.get('a')?.v).toBe('2');
  });

  // Two storages on one PostgreSQL schema are two instances (PGlite is one process: the fake storage above covers it).
  const url = process.env.DATABASE_URL;
  describe.skipIf(!url)('across instances, through PostgreSQL LISTEN/NOTIFY', () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const opened: Storage[] = [];
    const open = async () => {
      const s = await openStorage({
        databaseUrl: url,
        schema,
        dataDir: '',
        memory: true,
        logger: pino({ level: 'silent' }),
      });
      opened.push(s);
      return s;
    };
    afterAll(async () => {
      for (const s of opened) await s.close();
    });

    it('an invalidation on one instance drops the entry on the other', async () => {
      const first = await open();
      const second = await open();
      const channel = `synced_cache_${randomBytes(4).toString('hex')}`;
      const a = new SyncedCache<Item>(first, { channel, ttlMs: 60_000, max: 10 });
      const b = new SyncedCache<Item>(second, { channel, ttlMs: 60_000, max: 10 });
      await a.start();
      await b.start();
      await b.load('k', async () => ({ project: 'p1', v: 'old' }));
      await b.load('other', async () => ({ project: 'p1', v: 'o' }));
      expect(b.get('k')?.v).toBe('old');
      await a.invalidate('k');
      await expect.poll(() => b.get('k'), { timeout: 5_000 }).toBeUndefined();
      expect(b.get('other')?.v).toBe('o');
    }, 60_000);
  });
});
