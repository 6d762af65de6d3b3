import { type Kysely, sql } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import { BYOError } from '../errors.js';
import type { UsageOutput, UsageQueryInput } from '../schemas/usage.js';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;

const dayOf = (d: Date) => d.toISOString().slice(0, 10);
/**
 * A count read back: sums of `bigint` columns arrive as strings (numeric). Capped at 2^53 - 1
 * so that the output's integers stay exact and valid; no real usage comes near it.
 */
const n = (v: unknown) => Math.min(Number.MAX_SAFE_INTEGER, Number(v ?? 0) || 0);
/** A USD sum read back (numeric arrives as a string), to the nano-dollar; null stays null (unpriced). */
const usd = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1e9) / 1e9);

function pageOffset(cursor: string | undefined): number {
  if (!cursor) return 0;
  const m = /^o(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new BYOError('validation_failed', 'cursor is not a cursor this API returned.');
  return Number(m[1]);
}

/** `GET /v1/usage`: proxied calls of one project and mode, summed by UTC day, refId, provider, stored key and model. */
export async function queryUsage(
  db: Kysely<Database>,
  scope: { projectId: string; mode: Mode },
  input: UsageQueryInput,
  now = new Date(),
): Promise<UsageOutput> {
  const to = input.to ?? dayOf(now);
  const toStart = Date.parse(`${to}T00:00:00Z`);
  const from = input.from ?? dayOf(new Date(toStart - 29 * DAY_MS));
  const fromStart = Date.parse(`${from}T00:00:00Z`);
  if (fromStart > toStart) throw new BYOError('validation_failed', '`from` is after `to`.');
  if ((toStart - fromStart) / DAY_MS >= MAX_DAYS) throw new BYOError('validation_failed', `Ask for at most ${MAX_DAYS} days at once.`);
  const offset = pageOffset(input.cursor);

  let base = db
    .selectFrom('usage_records')
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode)
    .where('created_at', '>=', new Date(fromStart))
    .where('created_at', '<', new Date(toStart + DAY_MS));
  if (input.refId) base = base.where('ref_id', '=', input.refId);
  if (input.provider) base = base.where('provider', '=', input.provider);
  if (input.model) base = base.where('model', '=', input.model);
  if (input.keyId) {
    // A key id names one provider and refId for good (a replace keeps it), so its rows are read
    // through usage_records_ref_idx like a refId's; an id not stored in this project has none.
    const key = await db
      .selectFrom('provider_keys')
      .select(['ref_id', 'provider'])
      .where('id', '=', input.keyId)
      .where('project_id', '=', scope.projectId)
      .where('mode', '=', scope.mode)
      .executeTakeFirst();
    base = key
      ? base.where('ref_id', '=', key.ref_id).where('provider', '=', key.provider).where('key_id', '=', input.keyId)
      : base.where(sql<boolean>`false`);
  }

  const day = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;
  const sums = {
    requests: sql<string>`coalesce(sum(requests), 0)`,
    errors: sql<string>`coalesce(sum(requests) filter (where status >= 400), 0)`,
    input: sql<string>`coalesce(sum(input_tokens), 0)`,
    output: sql<string>`coalesce(sum(output_tokens), 0)`,
    total: sql<string>`coalesce(sum(total_tokens), 0)`,
    cost: sql<string | null>`sum(cost_usd)`,
    unpriced: sql<string>`coalesce(sum(requests) filter (where cost_usd is null), 0)`,
  };
  const rows = await base
    .select([
      day.as('day'),
      'ref_id',
      'provider',
      'key_id',
      'model',
      sums.requests.as('requests'),
      sums.errors.as('errors'),
      sums.input.as('input_tokens'),
      sums.output.as('output_tokens'),
      sums.total.as('total_tokens'),
      sums.cost.as('cost_usd'),
      sums.unpriced.as('unpriced'),
      sql<string>`round(sum(latency_ms)::numeric / greatest(sum(requests), 1))`.as('avg_latency'),
    ])
    .groupBy([day, 'ref_id', 'provider', 'key_id', 'model'])
    .orderBy(day, 'desc')
    .orderBy('ref_id')
    .orderBy('provider')
    .orderBy(sql`key_id nulls last`)
    .orderBy(sql`model nulls last`)
    .limit(input.limit + 1)
    .offset(offset)
    .execute();
  const totals = await base
    .select([
      sums.requests.as('requests'),
      sums.errors.as('errors'),
      sums.input.as('input_tokens'),
      sums.output.as('output_tokens'),
      sums.total.as('total_tokens'),
      sums.cost.as('cost_usd'),
      sums.unpriced.as('unpriced'),
    ])
    .executeTakeFirst();

  const page = rows.slice(0, input.limit);
  return {
    from,
    to,
    data: page.map((r) => ({
      day: r.day,
      refId: r.ref_id,
      provider: r.provider,
      keyId: r.key_id,
      model: r.model,
      requests: n(r.requests),
      errors: n(r.errors),
      inputTokens: n(r.input_tokens),
      outputTokens: n(r.output_tokens),
      totalTokens: n(r.total_tokens),
      costUsd: usd(r.cost_usd),
      unpricedRequests: n(r.unpriced),
      avgLatencyMs: n(r.avg_latency),
    })),
    totals: {
      requests: n(totals?.requests),
      errors: n(totals?.errors),
      inputTokens: n(totals?.input_tokens),
      outputTokens: n(totals?.output_tokens),
      totalTokens: n(totals?.total_tokens),
      costUsd: usd(totals?.cost_usd) ?? 0,
      unpricedRequests: n(totals?.unpriced),
    },
    nextCursor: rows.length > input.limit ? Buffer.from(`o${offset + input.limit}`).toString('base64url') : null,
  };
}
