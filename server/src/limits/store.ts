import type { Kysely } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import type { z } from 'zod';
import { type OwnerLimit, OwnerLimitsSchema, type SpendLimit, SpendLimitsSchema } from '../schemas/limits.js';

/** `ref_id` of the project default: no refId can be `*`. */
export const DEFAULT_REF = '*';

export interface Scope {
  projectId: string;
  mode: Mode;
}

/**
 * A stored limits column read back; empty, or a value that no longer validates (nothing the API
 * writes), counts as none. Every write goes through the same schema, so that takes a hand edit.
 */
export function parseLimits(text: string | null | undefined): SpendLimit[] | null {
  return parseWith(SpendLimitsSchema, text);
}

/** A key's owner cap (`provider_keys.owner_limits`) read back, as parseLimits. */
export function parseOwnerLimits(text: string | null | undefined): OwnerLimit[] | null {
  return parseWith(OwnerLimitsSchema, text);
}

function parseWith<T>(schema: z.ZodType<T[]>, text: string | null | undefined): T[] | null {
  if (!text) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.length > 0 ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function readLimits(db: Kysely<Database>, scope: Scope, refId: string): Promise<SpendLimit[] | null> {
  const row = await db
    .selectFrom('spend_limits')
    .select('limits')
    .where('project_id', '=', scope.projectId)
    .where('mode', '=', scope.mode)
    .where('ref_id', '=', refId)
    .executeTakeFirst();
  return parseLimits(row?.limits);
}

/** Replaces the limits of `refId` (or the default); an empty list clears them. */
export async function writeLimits(db: Kysely<Database>, scope: Scope, refId: string, limits: SpendLimit[]): Promise<void> {
  if (limits.length === 0) {
    await db
      .deleteFrom('spend_limits')
      .where('project_id', '=', scope.projectId)
      .where('mode', '=', scope.mode)
      .where('ref_id', '=', refId)
      .execute();
    return;
  }
  const text = JSON.stringify(limits);
  await db
    .insertInto('spend_limits')
    .values({ project_id: scope.projectId, mode: scope.mode, ref_id: refId, limits: text, updated_at: new Date() })
    .onConflict((oc) => oc.columns(['project_id', 'mode', 'ref_id']).doUpdateSet({ limits: text, updated_at: new Date() }))
    .execute();
}

/** What the proxy's fast path needs to know of a project: whether any limit could apply, and its default. */
export async function projectSummary(
  db: Kysely<Database>,
  scope: Scope,
): Promise<{ defaults: SpendLimit[] | null; customers: boolean; owners: boolean }> {
  const [defaults, customer, owner] = await Promise.all([
    readLimits(db, scope, DEFAULT_REF),
    db
      .selectFrom('spend_limits')
      .select('ref_id')
      .where('project_id', '=', scope.projectId)
      .where('mode', '=', scope.mode)
      .where('ref_id', '<>', DEFAULT_REF)
      .limit(1)
      .executeTakeFirst(),
    db
      .selectFrom('provider_keys')
      .select('id')
      .where('project_id', '=', scope.projectId)
      .where('mode', '=', scope.mode)
      .where('owner_limits', 'is not', null)
      .limit(1)
      .executeTakeFirst(),
  ]);
  return { defaults, customers: customer !== undefined, owners: owner !== undefined };
}
