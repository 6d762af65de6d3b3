import { parseOwnerLimits } from '../limits/store.js';
import type { KeyMeta } from './provider-key-writes.js';

/** A provider key's metadata as the API returns it (never the key). */
export function keyView(r: KeyMeta) {
  return {
    id: r.id,
    provider: r.provider,
    refId: r.ref_id,
    status: r.status,
    statusReason: r.status_reason,
    keyHint: r.key_hint,
    baseUrl: r.base_url,
    settings: r.provider_config,
    lastValidatedAt: r.last_validated_at ? r.last_validated_at.toISOString() : null,
    lastValidationResult: r.last_validation_result,
    lastValidation: r.last_validated_at
      ? {
          outcome: healthOutcome(r.last_validation_result),
          at: r.last_validated_at.toISOString(),
          message: r.last_validation_message,
        }
      : null,
    models: r.models,
    modelsCheckedAt: r.models_checked_at ? r.models_checked_at.toISOString() : null,
    limits: parseOwnerLimits(r.owner_limits),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export type HealthOutcome = 'valid' | 'invalid' | 'unreachable';

/** A check's outcome as the view names it: the stored `unknown` (the provider could not be asked) is `unreachable`. */
function healthOutcome(result: string | null): HealthOutcome {
  return result === 'valid' || result === 'invalid' ? result : 'unreachable';
}

/** The stored `last_validation_result` of an outcome (`unknown`: the word `POST /v1/keys/validate` has always used). */
export function storedOutcome(outcome: HealthOutcome): string {
  return outcome === 'unreachable' ? 'unknown' : outcome;
}
