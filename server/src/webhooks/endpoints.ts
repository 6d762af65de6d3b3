import { sql } from 'kysely';
import { randomId } from '../auth/api-key-format.js';
import { type Actor, audit } from '../domain/audit.js';
import { checkBaseUrl } from '../domain/base-url.js';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import type { Scope } from '../domain/scope.js';
import { BYOError } from '../errors.js';
import type { EventData, EventInput, EventType } from '../schemas/events.js';
import type { Services } from '../services.js';
import { claimDeliveries, leaseMsFor } from './claiming.js';
import { attemptDelivery } from './deliveries.js';
import { deliveryView } from './delivery-view.js';
import { ENDPOINT_COLUMNS, endpointView, findEndpoint, sealSecret } from './endpoint-rows.js';
import { failPending } from './endpoint-disabling.js';
import { generateWebhookSecret } from './signing.js';

/**
 * Webhook endpoints: creating, listing, reading, updating and deleting them, and sending one a
 * sample event. Their shared row and view are in endpoint-rows.ts, rotating a secret in
 * secret-rotation.ts, the delivery log in delivery-log.ts.
 */

/** Endpoints per project and mode: each one multiplies every event. */
export const MAX_ENDPOINTS = 20;

/**
 * The SSRF check of provider base URLs, at save time; it runs again inside the guarded
 * agent at every connection. https is required in live mode unless the operator allows http;
 * test mode also accepts http (still only to addresses the policy allows).
 */
async function checkWebhookUrl(services: Services, mode: Scope['mode'], raw: string): Promise<string> {
  const config = mode === 'test' ? { ...services.config, BYO_ALLOW_HTTP_UPSTREAMS: true } : services.config;
  await checkBaseUrl({ guard: services.guard, config }, raw, 'url');
  const u = new URL(raw);
  u.hash = '';
  return u.toString();
}

export async function createEndpoint(
  services: Services,
  scope: Scope,
  who: Actor,
  input: { url: string; events: string[]; description?: string | undefined; enabled: boolean },
) {
  const url = await checkWebhookUrl(services, scope.mode, input.url);
  const id = randomId('we');
  const secret = generateWebhookSecret();
  const sealed = sealSecret(services, { project_id: scope.project.id, mode: scope.mode, id }, secret);
  const row = await services.db.transaction().execute(async (trx) => {
    const count = await trx
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('project_id', '=', scope.project.id)
      .where('mode', '=', scope.mode)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_ENDPOINTS)
      throw new BYOError('endpoint_limit_reached', `A project has at most ${MAX_ENDPOINTS} webhook endpoints per mode.`);
    const inserted = await trx
      .insertInto('webhook_endpoints')
      .values({
        id,
        project_id: scope.project.id,
        mode: scope.mode,
        url,
        description: input.description ?? null,
        events: JSON.stringify(input.events),
        enabled: input.enabled,
        disabled_reason: input.enabled ? null : 'Created disabled.',
        secret_ciphertext: sealed.ciphertext,
        secret_wrapped_key: sealed.wrappedKey,
        secret_master_key_id: sealed.masterKeyId,
      })
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirstOrThrow();
    await audit(trx, who, {
      projectId: scope.project.id,
      mode: scope.mode,
      action: 'webhook_endpoint.created',
      target: id,
      metadata: { url: redactUrl(url), events: input.events },
    });
    return inserted;
  });
  return { ...endpointView(row), secret };
}

export async function listEndpoints(services: Services, scope: Scope, q: { limit: number; cursor?: string | undefined }) {
  let query = services.db
    .selectFrom('webhook_endpoints')
    .select(ENDPOINT_COLUMNS)
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where((eb) => eb.or([eb('created_at', '<', c.t), eb.and([eb('created_at', '=', c.t), eb('id', '<', c.id)])]));
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => endpointView(r)),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

export async function getEndpoint(services: Services, scope: Scope, id: string) {
  return endpointView(await findEndpoint(services.db, scope, id));
}

export async function updateEndpoint(
  services: Services,
  scope: Scope,
  who: Actor,
  input: {
    id: string;
    url?: string | undefined;
    events?: string[] | undefined;
    description?: string | null | undefined;
    enabled?: boolean | undefined;
  },
) {
  const current = await findEndpoint(services.db, scope, input.id);
  const url = input.url === undefined ? undefined : await checkWebhookUrl(services, scope.mode, input.url);
  const row = await services.db.transaction().execute(async (trx) => {
    const set: Record<string, unknown> = { updated_at: sql`now()` };
    if (url !== undefined) set.url = url;
    if (input.events !== undefined) set.events = JSON.stringify(input.events);
    if (input.description !== undefined) set.description = input.description;
    if (input.enabled === true && !current.enabled) Object.assign(set, { enabled: true, disabled_reason: null, failing_since: null });
    if (input.enabled === false && current.enabled) Object.assign(set, { enabled: false, disabled_reason: 'Disabled through the API.' });
    const updated = await trx
      .updateTable('webhook_endpoints')
      .set(set)
      .where('id', '=', current.id)
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirstOrThrow();
    if (input.enabled === false && current.enabled) await failPending(trx, current.id);
    const fields = Object.keys(input).filter((k) => k !== 'id' && input[k as keyof typeof input] !== undefined);
    await audit(trx, who, {
      projectId: scope.project.id,
      mode: scope.mode,
      action: 'webhook_endpoint.updated',
      target: current.id,
      metadata: { fields, ...(input.enabled !== undefined ? { enabled: input.enabled } : {}) },
    });
    return updated;
  });
  return endpointView(row);
}

export async function deleteEndpoint(services: Services, scope: Scope, who: Actor, id: string) {
  const current = await findEndpoint(services.db, scope, id);
  await services.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('webhook_endpoints').where('id', '=', current.id).execute();
    await audit(trx, who, { projectId: scope.project.id, mode: scope.mode, action: 'webhook_endpoint.deleted', target: current.id });
  });
  return { id: current.id, deleted: true as const };
}

/**
 * The sample event `testEndpoint` sends: `webhook.test` names the endpoint; any other type has
 * the data of the real event (schemas/events.ts, which types it), filled with sample values, so
 * a receiver's handler can be exercised.
 */
export function sampleEvent(type: EventType, endpointId: string): EventInput {
  const key = { provider: 'openai', refId: 'ref_test', keyHint: 'sk-...test' } as const;
  switch (type) {
    case 'webhook.test':
      return { type, data: { endpointId, message: 'A test event sent from BYO.' } };
    case 'key.connected':
      return { type, data: { ...key, replaced: false, by: 'secret_key' } };
    case 'key.revoked':
      return { type, data: key };
    case 'key.disabled':
      return {
        type,
        data: { ...key, reason: 'The provider rejected the key (HTTP 401) on a proxied call. (Sample event sent from BYO.)' },
      };
    case 'key.validation_failed':
      return { type, data: { ...key, reason: 'The provider rejected the key (HTTP 401). (Sample event sent from BYO.)' } };
    case 'key.models_changed':
      return { type, data: { ...key, added: ['gpt-4o'], removed: ['gpt-4'], count: 2 } };
    case 'limit.warning':
      return { type, data: sampleLimitData(40.5) };
    case 'limit.exceeded':
      return { type, data: { ...sampleLimitData(49.9), requested: 0.25 } };
  }
}

/** A limit event's data as limits/engine.ts writes it (eventData), with sample values. */
function sampleLimitData(used: number): EventData<'limit.warning'> {
  return {
    refId: 'ref_test',
    provider: 'openai',
    scope: 'customer',
    limit: { metric: 'cost_usd', window: 'month', max: 50, provider: null, warnAt: 0.8 },
    used,
    windowStart: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    resetsAt: new Date(Date.UTC(2026, 1, 1)).toISOString(),
    at: new Date().toISOString(),
  };
}

/**
 * Sends a sample event (`webhook.test` by default, or a key event with sample data) to one
 * endpoint now, through the same signer, SSRF guard and timeout as every delivery, and
 * answers with the result. The event goes to this endpoint only (whatever its event filter), is
 * logged as a delivery, and is not retried (redeliver it to try again). A disabled endpoint can
 * be tested, so it can be checked before it is enabled again.
 */
export async function testEndpoint(services: Services, scope: Scope, who: Actor, id: string, type: EventType = 'webhook.test') {
  const ep = await findEndpoint(services.db, scope, id);
  const eventId = randomId('evt');
  const deliveryId = randomId('wd');
  await services.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('events')
      .values({
        id: eventId,
        project_id: scope.project.id,
        mode: scope.mode,
        type,
        data: JSON.stringify(sampleEvent(type, ep.id).data),
        fanned_out_at: sql`now()`,
      })
      .execute();
    // next_attempt_at stays null, so the dispatcher leaves this row to us.
    await trx
      .insertInto('webhook_deliveries')
      .values({
        id: deliveryId,
        event_id: eventId,
        endpoint_id: ep.id,
        project_id: scope.project.id,
        mode: scope.mode,
        event_type: type,
        status: 'pending',
        attempts: 0,
        next_attempt_at: null,
      })
      .execute();
    await audit(trx, who, {
      projectId: scope.project.id,
      mode: scope.mode,
      action: 'webhook_endpoint.tested',
      target: ep.id,
      metadata: { event: type },
    });
  });
  const [claimed] = await claimDeliveries(services.db, { ids: [deliveryId], leaseMs: leaseMsFor(services.config.BYO_WEBHOOK_TIMEOUT) });
  if (!claimed) throw new BYOError('endpoint_not_found', `No webhook endpoint ${id}.`);
  const result = await attemptDelivery(services, { ...claimed, endpointEnabled: true }, { retry: false });
  const row = await services.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow();
  return {
    success: result.ok,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    responseBody: result.responseBody,
    error: result.error,
    eventId,
    delivery: deliveryView(row),
  };
}

/** URLs may carry a token in their path or query; the audit keeps the origin only. */
function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '[invalid]';
  }
}
