import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { LimitUse } from '../schemas/customers.js';
import type { SpendLimit } from '../schemas/limits.js';
import { DEFAULT_REF, parseLimits, type Scope } from './store.js';
import type { CounterStore } from './types.js';
import { windowOf } from './windows.js';

/** The counter of a customer or default limit, as the proxy charges it for `refId`. */
export const customerCounterKey = (refId: string, l: SpendLimit) => `c|${refId}|${l.metric}|${l.window}|${l.provider ?? '*'}`;
/** The counter of a key owner's cap: the refId's key of one provider, whichever key it is. */
export const ownerCounterKey = (refId: string, provider: string, l: Pick<SpendLimit, 'metric' | 'window'>) =>
  `o|${refId}|${provider}|${l.metric}|${l.window}`;

/**
 * For a page of customers, each one's limit nearest its max (used / max), among the limits in
 * force for it (its own, else the project default); null when none apply. One read of the
 * limits for the whole page, then one read of every counter (one statement on PostgreSQL, one
 * pipeline on Redis): the list costs the same at 100,000 customers as at 10.
 */
export async function pageLimitUse(
  db: Kysely<Database>,
  store: CounterStore,
  scope: Scope,
  refIds: string[],
  now: number,
): Promise<Map<string, LimitUse | null>> {
  const out = new Map<string, LimitUse | null>();
  if (refIds.length === 0) return out;
  const rows = await db
    .selectFrom('spend_limits')
    .select(['ref_id', 'limits'])
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode)
    .where('ref_id', 'in', [...refIds, DEFAULT_REF])
    .execute();
  const sets = new Map(rows.map((r) => [r.ref_id, parseLimits(r.limits)]));
  const defaults = sets.get(DEFAULT_REF) ?? null;
  const counters: { refId: string; source: LimitUse['source']; limit: SpendLimit; key: string; start: number }[] = [];
  for (const refId of refIds) {
    const own = sets.get(refId) ?? null;
    for (const limit of own ?? defaults ?? [])
      counters.push({
        refId,
        source: own ? 'customer' : 'default',
        limit,
        key: customerCounterKey(refId, limit),
        start: windowOf(limit.window, now).start,
      });
  }
  const used = counters.length ? await store.read(scope.projectId, scope.mode, counters) : [];
  for (const refId of refIds) out.set(refId, null);
  counters.forEach((c, i) => {
    const u = used[i] ?? 0;
    const fraction = round(u / c.limit.max);
    const best = out.get(c.refId);
    if (best && best.fraction >= fraction) return;
    out.set(c.refId, {
      source: c.source,
      metric: c.limit.metric,
      window: c.limit.window,
      provider: c.limit.provider ?? null,
      max: c.limit.max,
      used: round(u),
      fraction,
    });
  });
  return out;
}

const round = (v: number) => Math.round(v * 1e9) / 1e9;
