import { type Kysely, sql } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import type { Overview } from '../schemas/dashboard.js';

const DAY_MS = 86_400_000;
const DAYS = 30;
/** A count read back: bigint sums arrive as strings from pg. */
const n = (v: unknown) => Math.min(Number.MAX_SAFE_INTEGER, Number(v ?? 0) || 0);

/**
 * The dashboard's first screen in one call (a handful of requests per screen, never
 * one per row): key and customer counts, 30 days of usage by day, failing webhook endpoints.
 * Each part is one aggregate query; they run side by side.
 */
export async function overview(db: Kysely<Database>, scope: { projectId: string; mode: Mode }, now = new Date()): Promise<Overview> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = new Date(today - (DAYS - 1) * DAY_MS);
  const inScope = { project_id: scope.projectId, mode: scope.mode };

  const [counts, usage, active, endpoints, failing, failed] = await Promise.all([
    // Counters kept by triggers (migrations 20261208_0410 and 0420, decision 0028): a few rows whatever the size.
    db
      .selectFrom('provider_key_counts')
      .select([
        sql<string>`coalesce(sum(active), 0)`.as('active'),
        sql<string>`coalesce(sum(disabled), 0)`.as('disabled'),
        sql<string>`coalesce(sum(revoked), 0)`.as('revoked'),
        sql<string>`coalesce(sum(customers), 0)`.as('customers'),
      ])
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .executeTakeFirst(),
    // The roll-ups a trigger keeps (migration 20261208_0410): 30 days read a few hundred rows, whatever the traffic.
    db
      .selectFrom('usage_daily')
      .select([
        sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'),
        sql<string>`sum(requests)`.as('requests'),
        sql<string>`sum(errors)`.as('errors'),
        sql<string>`sum(total_tokens)`.as('tokens'),
        sql<string | null>`sum(cost_usd)`.as('cost'),
      ])
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where('day', '>=', from.toISOString().slice(0, 10))
      .groupBy('day')
      .execute(),
    db
      .selectFrom('usage_active_days')
      .select(sql<string>`coalesce(sum(customers), 0)`.as('n'))
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where('day', '>=', from.toISOString().slice(0, 10))
      .executeTakeFirst(),
    db
      .selectFrom('webhook_endpoints')
      .select(sql<string>`count(*)`.as('n'))
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .executeTakeFirst(),
    db
      .selectFrom('webhook_endpoints')
      .select(['id', 'url', 'enabled', 'failing_since', 'disabled_reason'])
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where((eb) => eb.or([eb('failing_since', 'is not', null), eb('enabled', '=', false)]))
      .orderBy('failing_since', 'asc')
      .limit(20)
      .execute(),
    db
      .selectFrom('webhook_deliveries')
      .select(sql<string>`count(*)`.as('n'))
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where('status', '=', 'failed')
      .where('updated_at', '>=', new Date(now.getTime() - DAY_MS))
      .executeTakeFirst(),
  ]);

  const byDay = new Map(usage.map((r) => [r.day, r]));
  const days = Array.from({ length: DAYS }, (_, i) => {
    const d = new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    const r = byDay.get(d);
    const cost = r?.cost === null || r?.cost === undefined ? null : Number(r.cost);
    return { day: d, requests: n(r?.requests), errors: n(r?.errors), totalTokens: n(r?.tokens), costUsd: cost };
  });
  const totals = days.reduce(
    (t, d) => ({ requests: t.requests + d.requests, errors: t.errors + d.errors, totalTokens: t.totalTokens + d.totalTokens }),
    { requests: 0, errors: 0, totalTokens: 0 },
  );
  // Cost is null until some call had a price (spend controls); unpriced days then count as 0.
  const priced = days.some((d) => d.costUsd !== null);
  const costUsd = priced ? Math.round(days.reduce((t, d) => t + (d.costUsd ?? 0), 0) * 1e6) / 1e6 : null;
  return {
    mode: scope.mode,
    keys: { active: n(counts?.active), disabled: n(counts?.disabled), revoked: n(counts?.revoked) },
    customers: { connected: n(counts?.customers), active: n(active?.n) },
    days,
    totals: { ...totals, costUsd },
    errorRate: totals.requests ? totals.errors / totals.requests : 0,
    webhooks: {
      endpoints: n(endpoints?.n),
      failing: failing.map((e) => ({
        id: e.id,
        url: e.url,
        enabled: e.enabled,
        failingSince: e.failing_since?.toISOString() ?? null,
        disabledReason: e.disabled_reason,
      })),
      failedDeliveries24h: n(failed?.n),
    },
  };
}
