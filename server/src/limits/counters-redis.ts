import { Redis } from 'ioredis';
import type { Charge, CounterStore, TakeResult } from './types.js';

/**
 * The same check-and-charge as byo_limit_take, as one Lua script: Redis runs a script alone,
 * so the check and the charges of one call are atomic across every instance. Each counter is
 * a hash (used, warned, refused) that lives a day longer than its window.
 * KEYS: the counters; ARGV: n, then per counter amount, max, warnAt, time to live (ms).
 */
const TAKE = `
local n = tonumber(ARGV[1])
local used = {}
for i = 1, n do
  used[i] = tonumber(redis.call('HGET', KEYS[i], 'used') or '0')
end
for i = 1, n do
  local amount = tonumber(ARGV[1 + (i - 1) * 4 + 1])
  local max = tonumber(ARGV[1 + (i - 1) * 4 + 2])
  if used[i] + amount > max then
    local first = redis.call('HSETNX', KEYS[i], 'refused', '1')
    redis.call('PEXPIRE', KEYS[i], ARGV[1 + (i - 1) * 4 + 4])
    local out = {}
    for j = 1, n do out[j] = tostring(used[j]) end
    return {i, out, {}, first}
  end
end
local out = {}
local warned = {}
for i = 1, n do
  local amount = tonumber(ARGV[1 + (i - 1) * 4 + 1])
  local max = tonumber(ARGV[1 + (i - 1) * 4 + 2])
  local warnAt = tonumber(ARGV[1 + (i - 1) * 4 + 3])
  local now = tonumber(redis.call('HINCRBYFLOAT', KEYS[i], 'used', amount))
  redis.call('PEXPIRE', KEYS[i], ARGV[1 + (i - 1) * 4 + 4])
  out[i] = tostring(now)
  warned[i] = 0
  if now >= warnAt * max then warned[i] = redis.call('HSETNX', KEYS[i], 'warned', '1') end
end
return {0, out, warned, 0}
`;

/** KEYS: the counters; ARGV: n, then per counter delta, max, warnAt. */
const SETTLE = `
local n = tonumber(ARGV[1])
local warned = {}
for i = 1, n do
  local delta = tonumber(ARGV[1 + (i - 1) * 3 + 1])
  local max = tonumber(ARGV[1 + (i - 1) * 3 + 2])
  local warnAt = tonumber(ARGV[1 + (i - 1) * 3 + 3])
  warned[i] = 0
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local now = tonumber(redis.call('HINCRBYFLOAT', KEYS[i], 'used', delta))
    if now < 0 then redis.call('HSET', KEYS[i], 'used', '0') end
    if delta > 0 and now >= warnAt * max then warned[i] = redis.call('HSETNX', KEYS[i], 'warned', '1') end
  end
end
return warned
`;

export class RedisCounters implements CounterStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
    this.redis.on('error', () => {});
    this.redis.defineCommand('byoLimitTake', { lua: TAKE });
    this.redis.defineCommand('byoLimitSettle', { lua: SETTLE });
  }

  private keyOf(projectId: string, mode: string, c: { key: string; start: number }): string {
    return `${this.prefix}:lim:${projectId}:${mode}:${c.key}:${c.start}`;
  }

  async take(projectId: string, mode: string, charges: Charge[]): Promise<TakeResult> {
    const keys = charges.map((c) => this.keyOf(projectId, mode, c));
    // Expiry as a duration (window length + a day), not a time: independent of the clock windows are computed with.
    const argv = charges.flatMap((c) => [c.amount, c.max, c.warnAt, c.end - c.start + 86_400_000]);
    const r = (await (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).byoLimitTake?.(
      keys.length,
      ...keys,
      charges.length,
      ...argv,
    )) as [number, string[], number[], number];
    return { refused: r[0], used: r[1].map(Number), warned: (r[2] ?? []).map((w) => w === 1), firstRefusal: r[3] === 1 };
  }

  async settle(projectId: string, mode: string, charges: Charge[], deltas: number[]): Promise<boolean[]> {
    const keys = charges.map((c) => this.keyOf(projectId, mode, c));
    const argv = charges.flatMap((c, i) => [deltas[i] ?? 0, c.max, c.warnAt]);
    const r = (await (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).byoLimitSettle?.(
      keys.length,
      ...keys,
      charges.length,
      ...argv,
    )) as number[];
    return r.map((w) => w === 1);
  }

  async read(projectId: string, mode: string, counters: { key: string; start: number }[]): Promise<number[]> {
    if (counters.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const c of counters) pipe.hget(this.keyOf(projectId, mode, c), 'used');
    const out = (await pipe.exec()) ?? [];
    return out.map(([, v]) => Number(v ?? 0) || 0);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
