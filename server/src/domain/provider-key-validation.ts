import type { ProviderName } from '../db/schema.js';
import { BYOError } from '../errors.js';
import { validateWithProvider } from '../providers/validate.js';
import type { Services } from '../services.js';
import type { Actor } from './audit.js';
import { keyView } from './provider-key-view.js';
import { disableKey, findMeta, loadProviderKey } from './provider-keys.js';
import type { Scope } from './scope.js';

/** `POST /v1/keys/validate`: asks the provider about the stored key now; a refusal disables it. */
export async function validateKey(services: Services, scope: Scope, who: Actor, provider: ProviderName, refId: string) {
  const ref = { projectId: scope.project.id, mode: scope.mode, provider, refId };
  const meta = await findMeta(services.db, scope, provider, refId);
  if (meta.status === 'revoked') throw new BYOError('key_revoked', 'This key was revoked; connect a new one.');
  const loaded = await loadProviderKey(services, ref);
  if (!loaded?.key) throw new BYOError('key_disabled', `This key is ${meta.status}; connect a new one.`);
  const outcome = await validateWithProvider(
    services.providers[provider],
    scope.mode,
    loaded.key,
    loaded.baseUrl,
    { ...services.agents, sandbox: services.config.BYO_SANDBOX, signing: services.signing },
    loaded.settings,
  );
  const checkedAt = new Date();
  await services.db
    .updateTable('provider_keys')
    .set({
      last_validated_at: checkedAt,
      last_validation_result: outcome.result,
      last_validation_message: outcome.reason,
      ...(outcome.result === 'valid' ? { invalid_checks: 0 } : {}),
    })
    .where('id', '=', meta.id)
    .execute();
  if (outcome.result === 'invalid' && loaded.version)
    await disableKey(services, ref, { id: loaded.id, version: loaded.version }, who, outcome.reason ?? 'provider rejected the key');
  const after = await findMeta(services.db, scope, provider, refId);
  return {
    valid: outcome.result === 'valid',
    result: outcome.result,
    reason: outcome.reason,
    providerStatus: outcome.providerStatus,
    checkedAt: checkedAt.toISOString(),
    key: keyView(after),
  };
}
