import type { IncomingMessage } from 'node:http';
import type { Kysely } from 'kysely';
import type { Storage } from '../db/database.js';
import type { Database, Mode, ProviderName } from '../db/schema.js';
import { ScopedCache } from '../domain/scoped-cache.js';
import { BYOError } from '../errors.js';
import { readBody } from '../net/request-body.js';
import { costOf, hasTokens, type TokenCounts } from '../pricing/cost.js';
import { type PriceOverrides, resolvePrice } from '../pricing/resolve.js';
import type { ModelPrice } from '../pricing/table.js';
import type { LimitUse } from '../schemas/customers.js';
import type { EventData, EventInput } from '../schemas/events.js';
import type { LimitState, SpendLimit } from '../schemas/limits.js';
import { estimateCall, type Estimate } from './estimate.js';
import { DEFAULT_REF, parseOwnerLimits, projectSummary, readLimits, type Scope } from './store.js';
import type { Charge, CounterStore, LimitScope } from './types.js';
import { customerCounterKey, ownerCounterKey, pageLimitUse } from './use.js';
import { windowOf } from './windows.js';

export const LIMITS_CHANNEL = 'byo_limits';
const DEFAULT_WARN_AT = 0.8;
/** Bodies read whole to estimate a tokens or cost reservation (larger: 413, as signed calls). */
const RESERVED_BODY_LIMIT = 32 * 1024 * 1024;

/** The call a ticket was issued for. */
export interface LimitRef {
  projectId: string;
  mode: Mode;
  provider: ProviderName;
  refId: string;
}

/** What an admitted call reserved, settled when it ends. */
export interface Ticket {
  ref: LimitRef;
  charges: Charge[];
  estimate: Estimate | null;
  price: ModelPrice | null;
  /** The price an owner's `cost_usd` cap counts at: the built-in table's, never the project's own. */
  ownerPrice: ModelPrice | null;
  /** The request body, when it was read to estimate (the proxy sends these bytes upstream). */
  body: Buffer | null;
}

/** A project's limits as the proxy sees them; `customers` and `owners` fill in as refIds are seen. */
interface ProjectLimits {
  any: boolean;
  defaults: SpendLimit[] | null;
  hasCustomers: boolean;
  hasOwners: boolean;
  customers: Map<string, SpendLimit[] | null>;
  owners: Map<string, SpendLimit[] | null>;
}

export type LimitEvent = Extract<EventInput, { type: 'limit.warning' | 'limit.exceeded' }>;

export interface LimitsDeps {
  db: Kysely<Database>;
  storage: Storage;
  store: CounterStore;
  prices: { overrides(projectId: string, mode: string): Promise<PriceOverrides> };
  /** Writes an event to the durable outbox (and wakes the dispatcher). */
  emit(scope: Scope, event: LimitEvent): Promise<void>;
  logger: { warn(obj: unknown, msg: string): void };
}

/**
 * Spend limits in the proxy. `admit()` runs before every proxied call is sent
 * (every provider, every path, the sandbox too): it is synchronous and returns null when the
 * project has no limits at all (the cached summary says so), so a project without limits pays
 * one Map lookup. Otherwise it charges every applicable counter in one atomic store call and
 * refuses with 429 `limit_exceeded` when any would pass its max. `settle()` moves the tokens and
 * cost reservations to the real figures when the call ends.
 */
export class Limits {
  /** The clock windows are computed from; tests replace it (no sleeping across a window). */
  now: () => number = Date.now;
  private readonly cache: ScopedCache<ProjectLimits>;

  constructor(private readonly deps: LimitsDeps) {
    this.cache = new ScopedCache(deps.storage, LIMITS_CHANNEL, async (projectId, mode) => {
      const s = await projectSummary(deps.db, { projectId, mode: mode as Mode });
      return {
        any: s.defaults !== null || s.customers || s.owners,
        defaults: s.defaults,
        hasCustomers: s.customers,
        hasOwners: s.owners,
        customers: new Map(),
        owners: new Map(),
      };
    });
  }

  private pruner: NodeJS.Timeout | undefined;

  async start(): Promise<void> {
    await this.cache.start();
    // Counters of windows long over are deleted hourly (Redis expires its own).
    this.pruner = setInterval(() => {
      this.deps.store.prune?.(this.now()).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not prune limit counters'));
    }, 3_600_000).unref();
  }

  async close(): Promise<void> {
    if (this.pruner) clearInterval(this.pruner);
    await this.deps.store.close();
  }

  /** After any change to a project's limits (or a key's owner cap), here and on every instance. */
  invalidate(scope: Scope): Promise<void> {
    return this.cache.invalidate(scope.projectId, scope.mode);
  }

  /** Null: no limit applies (the fast path, no await). Else the ticket once admitted, or a 429. */
  admit(ref: LimitRef, req: IncomingMessage, urlModel: string | null): Promise<Ticket | null> | null {
    const p = this.cache.peek(ref.projectId, ref.mode);
    if (p && !p.any) return null;
    return this.admitSlow(ref, req, urlModel);
  }

  private async admitSlow(ref: LimitRef, req: IncomingMessage, urlModel: string | null): Promise<Ticket | null> {
    const scope = { projectId: ref.projectId, mode: ref.mode };
    const p = await this.cache.get(ref.projectId, ref.mode);
    if (!p.any) return null;
    const applicable = await this.applicable(p, ref);
    if (applicable.length === 0) return null;

    let body: Buffer | null = null;
    let estimate: Estimate | null = null;
    let price: ModelPrice | null = null;
    let ownerPrice: ModelPrice | null = null;
    if (applicable.some((a) => a.limit.metric !== 'requests')) {
      body = await readBody(req, RESERVED_BODY_LIMIT, 'Calls under a tokens or cost limit accept');
      estimate = estimateCall(body, body.length, urlModel);
      if (applicable.some((a) => a.limit.metric === 'cost_usd' && a.scope !== 'owner')) {
        const overrides = await this.deps.prices.overrides(ref.projectId, ref.mode).catch(() => undefined);
        price = resolvePrice(ref.provider, estimate.model, overrides)?.price ?? null;
      }
      // The owner's cap protects the customer from the app, so it is not counted at prices the
      // app sets (an override of 0 would switch it off): the built-in table only.
      if (applicable.some((a) => a.limit.metric === 'cost_usd' && a.scope === 'owner'))
        ownerPrice = resolvePrice(ref.provider, estimate.model, undefined)?.price ?? null;
    }
    const now = this.now();
    const charges: Charge[] = applicable.map(({ limit, scope: s }) => {
      const w = windowOf(limit.window, now);
      const key = s === 'owner' ? ownerCounterKey(ref.refId, ref.provider, limit) : customerCounterKey(ref.refId, limit);
      return {
        key,
        start: w.start,
        end: w.end,
        amount: amountOf(limit, estimate, s === 'owner' ? ownerPrice : price),
        max: limit.max,
        warnAt: limit.warnAt ?? DEFAULT_WARN_AT,
        limit,
        scope: s,
      };
    });
    charges.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)); // one lock order for every call
    const r = await this.deps.store.take(ref.projectId, ref.mode, charges);
    this.warn(scope, ref, charges, r.warned, r.used);
    if (r.refused > 0) {
      const c = charges[r.refused - 1] as Charge;
      const used = r.used[r.refused - 1] ?? 0;
      if (r.firstRefusal) this.event(scope, { type: 'limit.exceeded', data: { ...eventData(ref, c, used, now), requested: c.amount } });
      throw exceeded(c, used, now);
    }
    return { ref, charges, estimate, price, ownerPrice, body };
  }

  /** The limits that apply to this call: the customer's own or else the project default, and the key owner's cap. */
  private async applicable(p: ProjectLimits, ref: LimitRef): Promise<{ limit: SpendLimit; scope: LimitScope }[]> {
    const scope = { projectId: ref.projectId, mode: ref.mode };
    let own: SpendLimit[] | null = null;
    if (p.hasCustomers) {
      own = p.customers.get(ref.refId) ?? null;
      if (!p.customers.has(ref.refId)) {
        own = await readLimits(this.deps.db, scope, ref.refId);
        if (p.customers.size > 100_000) p.customers.clear();
        p.customers.set(ref.refId, own);
      }
    }
    const out: { limit: SpendLimit; scope: LimitScope }[] = [];
    const app = own ?? p.defaults;
    for (const limit of app ?? [])
      if (!limit.provider || limit.provider === ref.provider) out.push({ limit, scope: own ? 'customer' : 'default' });
    if (p.hasOwners) {
      const id = `${ref.provider}|${ref.refId}`;
      let cap = p.owners.get(id);
      if (cap === undefined) {
        cap = await ownerLimits(this.deps.db, ref);
        if (p.owners.size > 100_000) p.owners.clear();
        p.owners.set(id, cap);
      }
      for (const limit of cap ?? []) out.push({ limit, scope: 'owner' });
    }
    return out;
  }

  /**
   * The call ended: tokens and cost reservations become the real figures (the provider's usage;
   * none when BYO or the provider refused the call; the reservation when a call that went
   * through reported nothing). `requests` stays counted.
   */
  settle(ticket: Ticket, usage: TokenCounts | undefined, reachedProvider: boolean, status: number): void {
    const { charges, estimate, price, ownerPrice, ref } = ticket;
    if (!estimate) return;
    let actual: TokenCounts;
    if (usage && hasTokens(usage)) actual = { ...usage, inputTokens: usage.inputTokens ?? estimate.inputTokens };
    else if (!reachedProvider || status >= 400) actual = { inputTokens: 0, outputTokens: 0 };
    else actual = { inputTokens: estimate.inputTokens, outputTokens: estimate.outputTokens };
    const deltas = charges.map((c) => {
      if (c.limit.metric === 'requests') return 0;
      const real =
        c.limit.metric === 'tokens'
          ? (actual.inputTokens ?? 0) + (actual.outputTokens ?? 0)
          : (costOf(c.scope === 'owner' ? ownerPrice : price, actual) ?? 0);
      return real - c.amount;
    });
    if (deltas.every((d) => d === 0)) return;
    const scope = { projectId: ref.projectId, mode: ref.mode };
    this.deps.store
      .settle(ref.projectId, ref.mode, charges, deltas)
      .then((warned) => this.warn(scope, ref, charges, warned, null))
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'could not settle a limit reservation; the reservation stays counted'));
  }

  private warn(scope: Scope, ref: LimitRef, charges: Charge[], warned: boolean[], used: number[] | null): void {
    const now = this.now();
    warned.forEach((w, i) => {
      const c = charges[i];
      if (w && c) this.event(scope, { type: 'limit.warning', data: eventData(ref, c, used?.[i] ?? null, now) });
    });
  }

  private event(scope: Scope, event: LimitEvent): void {
    this.deps
      .emit(scope, event)
      .catch((err: unknown) => this.deps.logger.warn({ err, type: event.type }, 'could not record a limit event'));
  }

  /** `GET .../limits`: the limits in force for `refId` (null: the project default) with their live use. */
  async state(
    scope: Scope,
    refId: string | null,
  ): Promise<{ refId: string | null; source: 'customer' | 'default' | 'none'; limits: LimitState[] }> {
    const own = refId === null ? null : await readLimits(this.deps.db, scope, refId);
    const defaults = await readLimits(this.deps.db, scope, DEFAULT_REF);
    const limits = refId === null ? defaults : (own ?? defaults);
    const source = refId === null ? (defaults ? 'default' : 'none') : own ? 'customer' : defaults ? 'default' : 'none';
    return {
      refId,
      source,
      limits: await this.live(scope, refId, limits ?? [], (l) => customerCounterKey(String(refId), l)),
    };
  }

  /** Each refId's limit nearest its max (customers list): one read of limits and one of counters for the page. */
  pageUse(scope: Scope, refIds: string[]): Promise<Map<string, LimitUse | null>> {
    return pageLimitUse(this.deps.db, this.deps.store, scope, refIds, this.now());
  }

  /** The owner's cap of one stored key with its live use. */
  async ownerState(scope: Scope, provider: ProviderName, refId: string, limits: SpendLimit[]): Promise<LimitState[]> {
    return this.live(scope, refId, limits, (l) => ownerCounterKey(refId, provider, l));
  }

  private async live(scope: Scope, refId: string | null, limits: SpendLimit[], keyOf: (l: SpendLimit) => string): Promise<LimitState[]> {
    const now = this.now();
    const windows = limits.map((l) => windowOf(l.window, now));
    const used =
      refId === null
        ? limits.map(() => 0)
        : await this.deps.store.read(
            scope.projectId,
            scope.mode,
            limits.map((l, i) => ({ key: keyOf(l), start: (windows[i] as { start: number }).start })),
          );
    return limits.map((l, i) => {
      const u = used[i] ?? 0;
      return {
        metric: l.metric,
        window: l.window,
        max: l.max,
        provider: l.provider ?? null,
        warnAt: l.warnAt ?? DEFAULT_WARN_AT,
        used: round(u),
        remaining: round(Math.max(0, l.max - u)),
        resetsAt: new Date((windows[i] as { end: number }).end).toISOString(),
      };
    });
  }
}

const round = (v: number) => Math.round(v * 1e9) / 1e9;

function amountOf(limit: SpendLimit, e: Estimate | null, price: ModelPrice | null): number {
  if (limit.metric === 'requests' || !e) return 1;
  if (limit.metric === 'tokens') return e.inputTokens + e.outputTokens;
  // An unpriced model reserves (and costs) nothing against a cost limit: pair it with a tokens limit.
  return costOf(price, e) ?? 0;
}

async function ownerLimits(db: Kysely<Database>, ref: LimitRef): Promise<SpendLimit[] | null> {
  const row = await db
    .selectFrom('provider_keys')
    .select('owner_limits')
    .where('project_id', '=', ref.projectId)
    .where('mode', '=', ref.mode)
    .where('provider', '=', ref.provider)
    .where('ref_id', '=', ref.refId)
    .executeTakeFirst();
  return parseOwnerLimits(row?.owner_limits);
}

/** The data of a limit event (`limit.exceeded` adds `requested`). */
function eventData(ref: LimitRef, c: Charge, used: number | null, now: number): EventData<'limit.warning'> {
  return {
    refId: ref.refId,
    provider: ref.provider,
    scope: c.scope,
    limit: { metric: c.limit.metric, window: c.limit.window, max: c.limit.max, provider: c.limit.provider ?? null, warnAt: c.warnAt },
    ...(used === null ? {} : { used: round(used) }),
    windowStart: new Date(c.start).toISOString(),
    resetsAt: new Date(c.end).toISOString(),
    at: new Date(now).toISOString(),
  };
}

const WHOSE: Record<LimitScope, string> = {
  customer: "the customer's limit",
  default: "the project's default limit",
  owner: "the key owner's cap",
};

function exceeded(c: Charge, used: number, now: number): BYOError {
  const retryAfter = Math.max(1, Math.ceil((c.end - now) / 1000));
  const l = c.limit;
  const what = `${l.metric} per ${l.window}${l.provider ? ` for ${l.provider}` : ''}`;
  return new BYOError(
    'limit_exceeded',
    `Over ${WHOSE[c.scope]}: ${what}, max ${l.max} (used ${round(used)}${l.metric === 'requests' ? '' : `, this call reserves ${round(c.amount)}`}). The window resets at ${new Date(c.end).toISOString()}.`,
    { retryAfter },
  );
}
