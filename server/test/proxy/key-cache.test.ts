import { describe, expect, it } from 'vitest';
import type { Storage } from '../../src/db/database.js';
import { type CachedProviderKey, KEYS_CHANNEL, ProviderKeyCache } from '../../src/domain/provider-key-cache.js';

/** A storage whose pub/sub the test drives: `message(id)` is a notification, `listening(up)` the LISTEN connection. */
function fakeStorage() {
  let onMessage: (p: string) => void = () => {};
  let onListening: (up: boolean) => void = () => {};
  const storage = {
    async listen(channel: string, fn: (p: string) => void, up?: (listening: boolean) => void) {
      expect(channel).toBe(KEYS_CHANNEL);
      onMessage = fn;
      if (up) onListening = up;
    },
    async notify() {},
  } as unknown as Storage;
  return { storage, message: (id: string) => onMessage(id), listening: (up: boolean) => onListening(up) };
}

const key = (k: string): CachedProviderKey => ({
  id: 'key_1',
  status: 'active',
  key: k,
  baseUrl: null,
  keyHint: null,
  version: Buffer.from(k),
});

/** A load the test finishes when it wants. */
function slowLoad() {
  let finish: (v: CachedProviderKey | null) => void = () => {};
  let calls = 0;
  const loader = () => {
    calls++;
    return new Promise<CachedProviderKey | null>((r) => {
      finish = r;
    });
  };
  return { loader, finish: (v: CachedProviderKey | null) => finish(v), calls: () => calls };
}

async function started() {
  const f = fakeStorage();
  const cache = new ProviderKeyCache(f.storage, 60_000, 100);
  await cache.start();
  return { cache, ...f };
}

describe('ProviderKeyCache loads and invalidations', () => {
  it('shares one load between concurrent misses and stores its result', async () => {
    const { cache } = await started();
    const slow = slowLoad();
    const a = cache.load('k', slow.loader);
    const b = cache.load('k', slow.loader);
    slow.finish(key('old'));
    expect((await a)?.key).toBe('old');
    expect((await b)?.key).toBe('old');
    expect(slow.calls()).toBe(1);
    expect(cache.get('k')?.key).toBe('old');
  });

  it('a load that overlapped an invalidation of its key (local or notified) is not stored, and later callers do not join it', async () => {
    for (const how of ['local', 'notified'] as const) {
      const { cache, message } = await started();
      const slow = slowLoad();
      const before = cache.load('k', slow.loader);
      if (how === 'local') await cache.invalidate('k');
      else message('k');
      const fresh = slowLoad();
      const after = cache.load('k', fresh.loader); // started after the invalidation: a new load
      expect(fresh.calls()).toBe(1);
      slow.finish(key('stale'));
      expect((await before)?.key).toBe('stale'); // the waiting caller gets it...
      expect(cache.get('k')).toBeUndefined(); // ...but it is not cached
      fresh.finish(key('new'));
      expect((await after)?.key).toBe('new');
      expect(cache.get('k')?.key).toBe('new');
    }
  });

  it('an invalidation of another key does not keep a load from being stored', async () => {
    const { cache, message } = await started();
    const slow = slowLoad();
    const p = cache.load('k', slow.loader);
    message('other');
    slow.finish(key('v'));
    await p;
    expect(cache.get('k')?.key).toBe('v');
  });

  it('"invalidate all" (*) drops entries and every load running', async () => {
    const { cache, message } = await started();
    const done = slowLoad();
    const p0 = cache.load('a', done.loader);
    done.finish(key('a'));
    await p0;
    const slow = slowLoad();
    const p = cache.load('b', slow.loader);
    message('*');
    expect(cache.get('a')).toBeUndefined();
    slow.finish(key('b'));
    await p;
    expect(cache.get('b')).toBeUndefined();
  });

  it('keeps serving while the LISTEN connection is down, and drops everything, running loads included, when it is back', async () => {
    const { cache, listening } = await started();
    const first = slowLoad();
    const p1 = cache.load('k', first.loader);
    first.finish(key('v1'));
    await p1;

    listening(false); // e.g. the database is unreachable: cached keys keep the proxy going
    expect(cache.get('k')?.key).toBe('v1');

    const straddling = slowLoad();
    const p2 = cache.load('other', straddling.loader);
    listening(true); // invalidations sent while down were missed
    expect(cache.get('k')).toBeUndefined();
    straddling.finish(key('v2'));
    await p2;
    expect(cache.get('other')).toBeUndefined(); // it may have read a row changed while down

    const afterwards = slowLoad();
    const p3 = cache.load('k', afterwards.loader);
    afterwards.finish(key('v3'));
    await p3;
    expect(cache.get('k')?.key).toBe('v3');
  });

  it('not found is not cached, a failed load is not kept in flight', async () => {
    const { cache } = await started();
    await expect(cache.load('k', async () => null)).resolves.toBeNull();
    expect(cache.get('k')).toBeUndefined();
    await expect(cache.load('k', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(cache.load('k', async () => key('ok'))).resolves.toMatchObject({ key: 'ok' });
  });
});
