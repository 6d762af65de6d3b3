import { type Kysely, sql } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import type { Overview } from '../schemas/dashboard.js';

const DAY_MS = 86_400_000;
const DAYS = 30;
/** A count read back: bigint sums arrive as strings from pg. */
const n = (v: unknown) => Math.min(Number.MAX_SAFE_INTEGER, Number(v ?? 0) || 0);

/**
 * The dashboard's first screen in one call (issue 22: a handful of requests per screen, never
 * one per row): key and customer counts, 30 days of usage by day, failing webhook endpoints.
 * Each part is one aggregate query; they run side by side.
 */
export async function overview(db: Kysely<Database>, scope: { projectId: string; mode: Mode }, now = new Date()): Promise<Overview> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = new Date(today - (DAYS - 1) * DAY_MS);
  const inScope = { project_id: scope.projectId, mode: scope.mode };
  const day = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;

  const [keys, connected, usage, active, endpoints, failing, failed] = await Promise.all([
    db
      .selectFrom('provider_keys')
      .select(['status', sql<string>`count(*)`.as('n')])
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .groupBy('status')
      .execute(),
    db
      .selectFrom('provider_keys')
      .select(sql<string>`count(distinct ref_id)`.as('n'))
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where('status', '=', 'active')
      .executeTakeFirst(),
    db
      .selectFrom('usage_records')
      .select([
        day.as('day'),
        sql<string>`coalesce(sum(requests), 0)`.as('requests'),
        sql<string>`coalesce(sum(requests) filter (where status >= 400), 0)`.as('errors'),
        sql<string>`coalesce(sum(total_tokens), 0)`.as('tokens'),
      ])
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where('created_at', '>=', from)
      .groupBy(day)
      .execute(),
    db
      .selectFrom('usage_records')
      .select(sql<string>`count(distinct ref_id)`.as('n'))
      .where('project_id', '=', inScope.project_id)
      .where('mode', '=', inScope.mode)
      .where('created_at', '>=', from)
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
    return { day: d, requests: n(r?.requests), errors: n(r?.errors), totalTokens: n(r?.tokens), costUsd: null };
  });
  const totals = days.reduce(
    (t, d) => ({ requests: t.requests + d.requests, errors: t.errors + d.errors, totalTokens: t.totalTokens + d.totalTokens }),
    {
      requests: 0,
      errors: 0,
      totalTokens: 0,
    },
  );
  const status = (s: string) => n(keys.find((k) => k.status === s)?.n);
  return {
    mode: scope.mode,
    keys: { active: status('active'), disabled: status('disabled'), revoked: status('revoked') },
    customers: { connected: n(connected?.n), active: n(active?.n) },
    days,
    totals: { ...totals, costUsd: null },
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
