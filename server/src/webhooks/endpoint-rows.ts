import type { Kysely } from 'kysely';
import type { Database, WebhookEndpointRow } from '../db/schema.js';
import type { Scope } from '../domain/scope.js';
import { BYOError } from '../errors.js';
import type { Services } from '../services.js';
import { secretContext, WEBHOOK_SECRET_KIND } from '../vault/aad.js';

/** What every webhook-endpoint job shares: the columns it reads, the API view, the lookup, the sealed secret. */

/** Columns safe to read anywhere: never the sealed secrets. */
export const ENDPOINT_COLUMNS = [
  'id',
  'project_id',
  'mode',
  'url',
  'description',
  'events',
  'enabled',
  'disabled_reason',
  'failing_since',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;
export type EndpointMeta = Pick<WebhookEndpointRow, (typeof ENDPOINT_COLUMNS)[number]>;

export function endpointView(r: EndpointMeta, now = new Date()) {
  const overlap = r.previous_secret_expires_at && r.previous_secret_expires_at > now ? r.previous_secret_expires_at : null;
  return {
    id: r.id,
    mode: r.mode,
    url: r.url,
    description: r.description,
    events: r.events,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
    failingSince: r.failing_since ? r.failing_since.toISOString() : null,
    previousSecretExpiresAt: overlap ? overlap.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export function sealSecret(services: Services, scope: { project_id: string; mode: string; id: string }, secret: string) {
  return services.vault.seal(WEBHOOK_SECRET_KIND, secretContext(scope), secret);
}

export async function findEndpoint(db: Kysely<Database>, scope: Scope, id: string): Promise<EndpointMeta> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select(ENDPOINT_COLUMNS)
    .where('id', '=', id)
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode)
    .executeTakeFirst();
  if (!row) throw new BYOError('endpoint_not_found', `No webhook endpoint ${id} in this project (${scope.mode} mode).`);
  return row;
}
