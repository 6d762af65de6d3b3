import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { audit } from '../domain/audit.js';
import { emitEvent } from '../domain/events.js';
import { keyCacheId } from '../domain/provider-key-cache.js';
import { modelChanges } from '../providers/model-list.js';
import type { Services } from '../services.js';
import type { ClaimedKey } from './claims.js';

/** What a scheduled check found: the provider accepted the key, refused it, or could not be asked. */
export type HealthOutcome = 'valid' | 'invalid' | 'unreachable';

export interface CheckResult {
  outcome: HealthOutcome;
  message: string | null;
  at: Date;
  /** When the key is next due. */
  next: Date;
  /** The model ids the provider listed for the key (valid only; null: its probe is not a listing). */
  models?: string[] | null;
}

const ACTOR = { actor: 'system:key-health' };

/**
 * Writes a check's outcome, only onto the version of the key that was checked (same row,
 * same ciphertext, still active): a key replaced, revoked or disabled while its probe ran is
 * left alone, and nothing is said about the new key from a check of the old one.
 *
 * - valid: resets both counters.
 * - unreachable: counts toward the backoff only; the invalid count stays as it was.
 * - invalid: `key.validation_failed` each time; the BYO_KEY_DISABLE_AFTER-th in a row also
 *   disables the key with `key.disabled`, in the same statement that moves it from `active`, so
 *   exactly once whatever else disables it at the same moment (a proxied call's 401).
 *
 * Returns whether the outcome was written (false: the key changed meanwhile).
 */
export async function recordOutcome(
  services: Services,
  key: ClaimedKey,
  r: CheckResult,
  disableAfter: number,
): Promise<{ written: boolean; disabled: boolean }> {
  if (r.outcome !== 'invalid') {
    const reached = r.outcome === 'valid';
    const listed = reached ? (r.models ?? null) : null;
    const update = (db: Kysely<Database>) =>
      db
        .updateTable('provider_keys')
        .set({
          last_validated_at: r.at,
          // `unknown`: the stored word for unreachable, as `POST /v1/keys/validate` has always said it.
          last_validation_result: reached ? 'valid' : 'unknown',
          last_validation_message: r.message,
          next_check_at: r.next,
          unreachable_checks: reached ? 0 : sql`unreachable_checks + 1`,
          ...(reached ? { invalid_checks: 0 } : {}),
          ...(listed ? { models: JSON.stringify(listed), models_checked_at: r.at } : {}),
        })
        .where('id', '=', key.id)
        .where('ciphertext', '=', key.ciphertext)
        .where('status', '=', 'active')
        .executeTakeFirst();
    // The first listing of a key is not a change; a later one that differs is (key.models_changed).
    const changes = listed && key.models ? modelChanges(key.models, listed) : null;
    if (!changes || (changes.added.length === 0 && changes.removed.length === 0)) {
      const res = await update(services.db);
      return { written: Number(res.numUpdatedRows) > 0, disabled: false };
    }
    const written = await services.db.transaction().execute(async (trx) => {
      if (Number((await update(trx)).numUpdatedRows) === 0) return false;
      await emitEvent(trx, {
        projectId: key.project_id,
        mode: key.mode,
        type: 'key.models_changed',
        data: { provider: key.provider, refId: key.ref_id, keyHint: key.key_hint, ...changes, count: listed?.length ?? 0 },
      });
      return true;
    });
    if (written) services.onEventsCommitted();
    return { written, disabled: false };
  }
  const reason = r.message ?? 'The provider rejected the key.';
  const disabledReason = `The provider rejected the key at ${disableAfter} scheduled checks in a row: ${reason}`;
  const written = await services.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('provider_keys')
      .set({
        last_validated_at: r.at,
        last_validation_result: 'invalid',
        last_validation_message: reason,
        next_check_at: r.next,
        unreachable_checks: 0,
        invalid_checks: sql`invalid_checks + 1`,
        status: sql`case when invalid_checks + 1 >= ${disableAfter} then 'disabled' else status end`,
        status_reason: sql`case when invalid_checks + 1 >= ${disableAfter} then ${disabledReason} else status_reason end`,
        updated_at: sql`case when invalid_checks + 1 >= ${disableAfter} then ${r.at}::timestamptz else updated_at end`,
      })
      .where('id', '=', key.id)
      .where('ciphertext', '=', key.ciphertext)
      .where('status', '=', 'active')
      .returning(['status', 'invalid_checks'])
      .executeTakeFirst();
    if (!row) return null;
    const base = { projectId: key.project_id, mode: key.mode };
    const data = { provider: key.provider, refId: key.ref_id, keyHint: key.key_hint };
    await emitEvent(trx, {
      ...base,
      type: 'key.validation_failed',
      data: { ...data, reason, source: 'scheduled_check', consecutive: row.invalid_checks },
    });
    const disabled = row.status === 'disabled';
    if (disabled) {
      await emitEvent(trx, { ...base, type: 'key.disabled', data: { ...data, reason: disabledReason } });
      await audit(trx, ACTOR, { ...base, action: 'key.disabled', target: key.id, metadata: { reason: disabledReason } });
    }
    return { disabled };
  });
  if (!written) return { written: false, disabled: false };
  if (written.disabled) await services.keyCache.invalidate(keyCacheId(key.project_id, key.mode, key.provider, key.ref_id));
  services.onEventsCommitted();
  return { written: true, disabled: written.disabled };
}
