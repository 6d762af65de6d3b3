import { type Kysely, sql } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { listKeys } from './provider-keys.js';
import type { Scope as KeyScope } from './scope.js';

interface Scope {
  projectId: string;
  mode: Mode;
}

const n = (v: unknown) => Math.min(Number.MAX_SAFE_INTEGER, Number(v ?? 0) || 0);
const usd = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1e9) / 1e9);
const monthStart = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
const monthOf = (now: Date) => now.toISOString().slice(0, 7);
/** refIds compare byte-wise ("C"), the order of provider_keys_customer_idx. */
const refC = sql<string>`(ref_id collate "C")`;

function cursorRef(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!s.startsWith('r:')) throw new BYOError('validation_failed', 'cursor is not a cursor this API returned.');
  return s.slice(2);
}

/** This month's sums per refId of `refIds` (one index range per refId: usage_records_ref_idx). */
async function monthSums(db: Kysely<Database>, scope: Scope, refIds: string[], now: Date) {
  if (refIds.length === 0) return new Map<string, Record<string, unknown>>();
  const rows = await db
    .selectFrom('usage_records')
    .select([
      'ref_id',
      sql<string>`coalesce(sum(requests), 0)`.as('requests'),
      sql<string>`coalesce(sum(input_tokens), 0)`.as('input'),
      sql<string>`coalesce(sum(output_tokens), 0)`.as('output'),
      sql<string>`coalesce(sum(total_tokens), 0)`.as('total'),
      sql<string>`coalesce(sum(cost_usd), 0)`.as('cost'),
      sql<string>`coalesce(sum(requests) filter (where cost_usd is null), 0)`.as('unpriced'),
    ])
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode)
    .where('ref_id', 'in', refIds)
    .where('created_at', '>=', monthStart(now))
    .groupBy('ref_id')
    .execute();
  return new Map(rows.map((r) => [r.ref_id, r as Record<string, unknown>]));
}

function month(r: Record<string, unknown> | undefined, now: Date) {
  return {
    month: monthOf(now),
    requests: n(r?.requests),
    inputTokens: n(r?.input),
    outputTokens: n(r?.output),
    totalTokens: n(r?.total),
    costUsd: usd(r?.cost) ?? 0,
    unpricedRequests: n(r?.unpriced),
  };
}

/** Each refId's last call: one index lookup per refId (newest row of usage_records_ref_idx). */
async function lastUse(db: Kysely<Database>, scope: Scope, refIds: string[]): Promise<Map<string, Date>> {
  if (refIds.length === 0) return new Map();
  const { rows } = await sql<{ ref_id: string; at: Date | string | null }>`
    select r.ref_id, (select u.created_at from usage_records u
                      where u.project_id = ${scope.projectId} and u.mode = ${scope.mode} and u.ref_id = r.ref_id
                      order by u.created_at desc limit 1) as at
    from unnest(${refIds}::text[]) as r(ref_id)`.execute(db);
  const out = new Map<string, Date>();
  for (const r of rows) if (r.at) out.set(r.ref_id, new Date(r.at));
  return out;
}

/** `GET /v1/customers`: refIds with a stored key, in byte order, by prefix, with keys, last use, this month's usage and limit use. */
export async function listCustomers(
  services: Services,
  scope: Scope,
  input: { prefix?: string | undefined; limit: number; cursor?: string | undefined },
  now = new Date(),
) {
  const after = cursorRef(input.cursor);
  let q = services.db
    .selectFrom('provider_keys')
    .select(refC.as('ref_id'))
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode);
  if (input.prefix) q = q.where(refC, '>=', input.prefix).where(refC, '<', `${input.prefix}\u007f`);
  if (after !== null) q = q.where(refC, '>', after);
  const refs = (
    await q
      .groupBy(refC)
      .orderBy(refC)
      .limit(input.limit + 1)
      .execute()
  ).map((r) => r.ref_id);
  const page = refs.slice(0, input.limit);
  const [keys, usage, last, limitUse] = await Promise.all([
    page.length
      ? services.db
          .selectFrom('provider_keys')
          .select(['ref_id', 'provider', 'status'])
          .where('project_id', '=', scope.projectId)
          .where('mode', '=', scope.mode)
          .where('ref_id', 'in', page)
          .orderBy('provider')
          .execute()
      : Promise.resolve([]),
    monthSums(services.db, scope, page, now),
    lastUse(services.db, scope, page),
    services.limits.pageUse(scope, page),
  ]);
  const byRef = new Map<string, { provider: (typeof keys)[number]['provider']; status: (typeof keys)[number]['status'] }[]>();
  for (const k of keys) byRef.set(k.ref_id, [...(byRef.get(k.ref_id) ?? []), { provider: k.provider, status: k.status }]);
  const lastRef = page[page.length - 1];
  return {
    data: page.map((refId) => ({
      refId,
      keys: byRef.get(refId) ?? [],
      lastUsedAt: last.get(refId)?.toISOString() ?? null,
      thisMonth: month(usage.get(refId), now),
      limitUse: limitUse.get(refId) ?? null,
    })),
    nextCursor: refs.length > input.limit && lastRef !== undefined ? Buffer.from(`r:${lastRef}`).toString('base64url') : null,
  };
}

/** `GET /v1/customers/{refId}`: its keys, its limits with their live state, this month's usage by provider and model. */
export async function getCustomer(services: Services, key: KeyScope, refId: string, now = new Date()) {
  const scope = { projectId: key.project.id, mode: key.mode };
  const keys = await listKeys(services, key, { refId, limit: 100 });
  if (keys.data.length === 0) throw new BYOError('not_found', `No customer "${refId}": no key is stored for this refId in this mode.`);
  const capped = keys.data.filter((k) => k.limits?.length);
  const [usage, last, limits, ownerCaps, byModel] = await Promise.all([
    monthSums(services.db, scope, [refId], now),
    lastUse(services.db, scope, [refId]),
    services.limits.state(scope, refId),
    Promise.all(
      capped.map(async (k) => ({
        provider: k.provider,
        keyId: k.id,
        limits: await services.limits.ownerState(scope, k.provider, refId, k.limits ?? []),
      })),
    ),
    services.db
      .selectFrom('usage_records')
      .select([
        'provider',
        'model',
        sql<string>`sum(requests)`.as('requests'),
        sql<string>`coalesce(sum(total_tokens), 0)`.as('total'),
        sql<string | null>`sum(cost_usd)`.as('cost'),
      ])
      .where('project_id', '=', scope.projectId)
      .where('mode', '=', scope.mode)
      .where('ref_id', '=', refId)
      .where('created_at', '>=', monthStart(now))
      .groupBy(['provider', 'model'])
      .orderBy('provider')
      .orderBy('model')
      .execute(),
  ]);
  return {
    refId,
    keys: keys.data,
    lastUsedAt: last.get(refId)?.toISOString() ?? null,
    limits,
    ownerCaps,
    thisMonth: {
      ...month(usage.get(refId), now),
      byModel: byModel.map((r) => ({
        provider: r.provider,
        model: r.model,
        requests: n(r.requests),
        totalTokens: n(r.total),
        costUsd: usd(r.cost),
      })),
    },
  };
}
