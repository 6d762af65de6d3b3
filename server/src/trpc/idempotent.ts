import { withIdempotency } from '../domain/idempotency.js';
import type { Services } from '../services.js';
import type { KeyScope } from './init.js';

/**
 * Runs a secret-key write under the request's `Idempotency-Key` (domain/idempotency.ts), for
 * the writes a retry would repeat. Responses holding a secret shown once (`secretFields`) keep
 * it sealed in the stored copy.
 */
export function idempotent<T>(
  ctx: { services: Services; key: Pick<KeyScope, 'project' | 'mode'>; idempotencyKey: string | null },
  operation: string,
  input: unknown,
  run: () => Promise<T>,
  secretFields?: readonly string[],
): Promise<T> {
  const { services, key } = ctx;
  return withIdempotency(services.db, { projectId: key.project.id, mode: key.mode }, ctx.idempotencyKey, operation, input, run, {
    vault: services.vault,
    ...(secretFields ? { secretFields } : {}),
  });
}
