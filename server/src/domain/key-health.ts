import { sql } from 'kysely';
import type { ProviderName } from '../db/schema.js';
import type { KeyHealthOutput } from '../schemas/keys.js';
import type { Services } from '../services.js';
import { keyView, storedOutcome } from './provider-key-view.js';
import { META_COLUMNS } from './provider-key-writes.js';
import type { Scope } from './scope.js';

/**
 * The operator's view of key health (`GET /v1/keys/health`, `byo keys health`): keys by status,
 * active keys by their last check's outcome, and the failing keys with the reason. Two
 * statements, whatever the number of keys: a grouped count and the newest failures.
 */
export async function keyHealth(
  services: Services,
  scope: Scope,
  q: { provider?: ProviderName | undefined; limit: number },
): Promise<KeyHealthOutput> {
  let counts = services.db
    .selectFrom('provider_keys')
    .select(['status', 'last_validation_result', sql<number>`count(*)::int`.as('n')])
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode)
    .groupBy(['status', 'last_validation_result']);
  if (q.provider) counts = counts.where('provider', '=', q.provider);
  let failing = services.db
    .selectFrom('provider_keys')
    .select(META_COLUMNS)
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode)
    .where('status', '!=', 'revoked')
    .where('last_validation_result', 'in', [storedOutcome('invalid'), storedOutcome('unreachable')]);
  if (q.provider) failing = failing.where('provider', '=', q.provider);
  const [rows, failed] = await Promise.all([
    counts.execute(),
    failing.orderBy('last_validated_at', 'desc').orderBy('id').limit(q.limit).execute(),
  ]);
  const out: KeyHealthOutput = {
    byStatus: { active: 0, disabled: 0, revoked: 0 },
    byOutcome: { valid: 0, invalid: 0, unreachable: 0, unchecked: 0 },
    failing: failed.map(keyView),
  };
  for (const r of rows) {
    const n = Number(r.n);
    out.byStatus[r.status] += n;
    if (r.status !== 'active') continue;
    const result = r.last_validation_result;
    const outcome = result === null ? 'unchecked' : result === 'valid' || result === 'invalid' ? result : 'unreachable';
    out.byOutcome[outcome] += n;
  }
  return out;
}
