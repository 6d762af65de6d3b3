import type { Kysely } from 'kysely';
import type { Storage } from '../db/database.js';
import type { Database, Mode, ProviderName } from '../db/schema.js';
import { ScopedCache } from '../domain/scoped-cache.js';
import { BYOError } from '../errors.js';
import { isProviderId } from '../providers/registry.js';
import type { PriceEntry, PriceInput } from '../schemas/prices.js';
import { PriceSchema } from '../schemas/prices.js';
import { overrideKey, type PriceOverrides, resolvePrice } from './resolve.js';
import { type ModelPrice, PRICE_TABLE, PRICES_AS_OF } from './table.js';

export const PRICES_CHANNEL = 'byo_prices';

interface Scope {
  projectId: string;
  mode: Mode;
}

/**
 * A project's price overrides, cached per project and mode and dropped on every instance
 * when one changes. A row that fails validation (written around the API) is skipped, never
 * used: a bad price cannot make calls fail or every cost wrong.
 */
export class PriceBook {
  private readonly cache: ScopedCache<PriceOverrides>;

  constructor(
    private readonly db: Kysely<Database>,
    storage: Storage,
  ) {
    this.cache = new ScopedCache(storage, PRICES_CHANNEL, (projectId, mode) => this.read(projectId, mode));
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  overrides(projectId: string, mode: string): Promise<PriceOverrides> {
    return this.cache.get(projectId, mode);
  }

  invalidate(scope: Scope): Promise<void> {
    return this.cache.invalidate(scope.projectId, scope.mode);
  }

  private async read(projectId: string, mode: string): Promise<PriceOverrides> {
    const rows = await this.db
      .selectFrom('price_overrides')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('mode', '=', mode as Mode)
      .execute();
    const map = new Map<string, ModelPrice>();
    for (const r of rows) {
      const price = toPrice(r);
      if (price) map.set(overrideKey(r.provider, r.model), price);
    }
    return map;
  }
}

function toPrice(r: { input: number; output: number; cached_input: number | null; cache_write: number | null }): ModelPrice | null {
  const parsed = PriceSchema.safeParse({ input: r.input, output: r.output, cachedInput: r.cached_input, cacheWrite: r.cache_write });
  if (!parsed.success) return null;
  const { input, output, cachedInput, cacheWrite } = parsed.data;
  return { input, output, ...(cachedInput != null ? { cachedInput } : {}), ...(cacheWrite != null ? { cacheWrite } : {}) };
}

function tableEntry(provider: ProviderName, model: string, price: ModelPrice): PriceEntry {
  return {
    provider,
    model,
    input: price.input,
    output: price.output,
    cachedInput: price.cachedInput ?? null,
    cacheWrite: price.cacheWrite ?? null,
    source: 'table',
    updatedAt: null,
  };
}

/** `GET /v1/prices`: this project's overrides, then the built-in table; with `model`, the one price it resolves to. */
export async function listPrices(
  db: Kysely<Database>,
  scope: Scope,
  input: { provider?: ProviderName | undefined; model?: string | undefined },
) {
  let q = db.selectFrom('price_overrides').selectAll().where('project_id', '=', scope.projectId).where('mode', '=', scope.mode);
  if (input.provider) q = q.where('provider', '=', input.provider);
  const rows = await q.orderBy('provider').orderBy('model').execute();
  const overrides: PriceEntry[] = [];
  const map = new Map<string, ModelPrice>();
  for (const r of rows) {
    const price = toPrice(r);
    if (!price) continue;
    map.set(overrideKey(r.provider, r.model), price);
    overrides.push({ ...tableEntry(r.provider, r.model, price), source: 'override', updatedAt: r.updated_at.toISOString() });
  }
  const sources = Object.fromEntries(Object.entries(PRICE_TABLE).flatMap(([id, t]) => (isProviderId(id) ? [[id, t.source]] : [])));
  if (input.model) {
    if (!input.provider) throw new BYOError('validation_failed', 'Pass `provider` with `model`: a model id is priced per provider.');
    const hit = resolvePrice(input.provider, input.model, map);
    const data = !hit
      ? []
      : hit.source === 'override'
        ? overrides.filter((o) => o.model === hit.model)
        : [tableEntry(input.provider, hit.model, hit.price)];
    return { asOf: PRICES_AS_OF, sources, data };
  }
  const table: PriceEntry[] = [];
  for (const [provider, t] of Object.entries(PRICE_TABLE) as [ProviderName, (typeof PRICE_TABLE)[string]][]) {
    // The table may price providers this build does not serve yet: only the registry's are listed.
    if (!isProviderId(provider) || (input.provider && provider !== input.provider)) continue;
    for (const [model, price] of Object.entries(t.models)) table.push(tableEntry(provider, model, price));
  }
  return { asOf: PRICES_AS_OF, sources, data: [...overrides, ...table] };
}

/** A model id from a path: REST leaves `%2F` encoded in a path parameter (ids such as `openai/gpt-oss-120b`). */
const pathModel = (model: string) => model.replace(/%2F/gi, '/');

/** `PUT /v1/prices/{provider}/{model}`: adds or replaces this project's price for the id. */
export async function setPrice(
  db: Kysely<Database>,
  book: PriceBook,
  scope: Scope,
  input: PriceInput & { provider: ProviderName; model: string },
): Promise<PriceEntry> {
  const values = {
    input: input.input,
    output: input.output,
    cached_input: input.cachedInput ?? null,
    cache_write: input.cacheWrite ?? null,
    updated_at: new Date(),
  };
  const row = await db
    .insertInto('price_overrides')
    .values({ project_id: scope.projectId, mode: scope.mode, provider: input.provider, model: pathModel(input.model), ...values })
    .onConflict((oc) => oc.columns(['project_id', 'mode', 'provider', 'model']).doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  await book.invalidate(scope);
  return {
    provider: row.provider,
    model: row.model,
    input: row.input,
    output: row.output,
    cachedInput: row.cached_input,
    cacheWrite: row.cache_write,
    source: 'override',
    updatedAt: row.updated_at.toISOString(),
  };
}

/** `DELETE /v1/prices/{provider}/{model}`: the table's price (if any) applies again. */
export async function deletePrice(db: Kysely<Database>, book: PriceBook, scope: Scope, input: { provider: ProviderName; model: string }) {
  const res = await db
    .deleteFrom('price_overrides')
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode)
    .where('provider', '=', input.provider)
    .where('model', '=', pathModel(input.model))
    .executeTakeFirst();
  await book.invalidate(scope);
  return { provider: input.provider, model: pathModel(input.model), deleted: Number(res.numDeletedRows) > 0 };
}
