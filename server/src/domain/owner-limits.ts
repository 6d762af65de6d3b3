import { BYOError } from '../errors.js';
import type { ProviderName } from '../db/schema.js';
import { parseOwnerLimits } from '../limits/store.js';
import type { OwnerLimit } from '../schemas/limits.js';
import type { Services } from '../services.js';
import { type Actor, audit } from './audit.js';
import { META_COLUMNS } from './provider-key-writes.js';
import { keyView } from './provider-key-view.js';
import type { Scope } from './scope.js';

/**
 * The secret key lowering a key owner's cap. The cap is the customer's consent ("at most $50 a
 * month through this app"), so the app may make it stricter but never looser: every limit of
 * the current cap must stay, with the same metric and window and a `max` no higher. Limits may be
 * added (and a key without a cap may be given one, which then only a connect can raise or remove).
 * Only a connect of the key with `limits` (its owner's, or the app's with the key itself) sets a
 * higher cap or none.
 */
export async function lowerOwnerLimits(
  services: Services,
  scope: Scope,
  who: Actor,
  provider: ProviderName,
  refId: string,
  limits: readonly OwnerLimit[],
) {
  const row = await services.db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('provider_keys')
      .select(['id', 'owner_limits'])
      .where('project_id', '=', scope.project.id)
      .where('mode', '=', scope.mode)
      .where('provider', '=', provider)
      .where('ref_id', '=', refId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw new BYOError('key_not_found', `No ${provider} key is connected for refId "${refId}".`);
    const stored = parseOwnerLimits(current.owner_limits);
    // A cap that cannot be read back is not taken for none: nothing could then be "lowered" from it.
    if (current.owner_limits && current.owner_limits !== '[]' && !stored)
      throw new BYOError('conflict', "This key's stored cap cannot be read; its owner must connect the key again to set one.");
    const problem = looserThan(stored ?? [], limits);
    if (problem)
      throw new BYOError(
        'owner_limit_locked',
        `${problem} The key owner's cap may only be lowered with the secret key; to raise or remove it, the customer connects the key again with the cap they want.`,
      );
    const updated = await trx
      .updateTable('provider_keys')
      .set({ owner_limits: limits.length ? JSON.stringify(limits) : null, updated_at: new Date() })
      .where('id', '=', current.id)
      .returning(META_COLUMNS)
      .executeTakeFirstOrThrow();
    await audit(trx, who, {
      projectId: scope.project.id,
      mode: scope.mode,
      action: 'key.limits_lowered',
      target: current.id,
      metadata: { provider, refId, limits },
    });
    return updated;
  });
  await services.limits.invalidate({ projectId: scope.project.id, mode: scope.mode });
  return keyView(row);
}

/** Why `next` would loosen `current`, or null when every current limit stays at most as high. */
function looserThan(current: readonly OwnerLimit[], next: readonly OwnerLimit[]): string | null {
  for (const c of current) {
    const n = next.find((l) => l.metric === c.metric && l.window === c.window);
    const what = `${c.metric} per ${c.window} (max ${c.max})`;
    if (!n) return `The new limits drop the cap's ${what}.`;
    if (n.max > c.max) return `The new limits raise the cap's ${what} to ${n.max}.`;
  }
  return null;
}
