import { sql } from 'kysely';
import { type Actor, audit } from '../domain/audit.js';
import type { Scope } from '../domain/scope.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { ENDPOINT_COLUMNS, endpointView, findEndpoint, sealSecret } from './endpoint-rows.js';
import { generateWebhookSecret } from './signing.js';

/**
 * A new secret now; for `overlapSeconds` deliveries are signed with the new and the previous
 * secret. Rotating again during an overlap drops the oldest secret.
 */
export async function rotateSecret(services: Services, scope: Scope, who: Actor, input: { id: string; overlapSeconds: number }) {
  const current = await findEndpoint(services.db, scope, input.id);
  const secret = generateWebhookSecret();
  const sealed = sealSecret(services, current, secret);
  const row = await services.db.transaction().execute(async (trx) => {
    const prev = await trx
      .selectFrom('webhook_endpoints')
      .select(['secret_ciphertext', 'secret_wrapped_key', 'secret_master_key_id'])
      .where('id', '=', current.id)
      .forUpdate()
      .executeTakeFirst();
    if (!prev) throw new BYOError('endpoint_not_found', `No webhook endpoint ${current.id}.`);
    const overlap = input.overlapSeconds > 0;
    const updated = await trx
      .updateTable('webhook_endpoints')
      .set({
        secret_ciphertext: sealed.ciphertext,
        secret_wrapped_key: sealed.wrappedKey,
        secret_master_key_id: sealed.masterKeyId,
        previous_secret_ciphertext: overlap ? prev.secret_ciphertext : null,
        previous_secret_wrapped_key: overlap ? prev.secret_wrapped_key : null,
        previous_secret_master_key_id: overlap ? prev.secret_master_key_id : null,
        previous_secret_expires_at: overlap ? sql<Date>`now() + ${input.overlapSeconds} * interval '1 second'` : null,
        updated_at: sql`now()`,
      })
      .where('id', '=', current.id)
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirstOrThrow();
    await audit(trx, who, {
      projectId: scope.project.id,
      mode: scope.mode,
      action: 'webhook_endpoint.secret_rotated',
      target: current.id,
      metadata: { overlapSeconds: input.overlapSeconds },
    });
    return updated;
  });
  const view = endpointView(row);
  return { endpoint: view, secret, previousSecretExpiresAt: view.previousSecretExpiresAt };
}
