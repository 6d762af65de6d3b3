import type { WebhookDeliveryRow } from '../db/schema.js';

/** A delivery as the API returns it. */
export function deliveryView(r: WebhookDeliveryRow) {
  return {
    id: r.id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    eventType: r.event_type,
    mode: r.mode,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at ? r.next_attempt_at.toISOString() : null,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    lastResponse: r.last_response,
    lastLatencyMs: r.last_latency_ms,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    deliveredAt: r.delivered_at ? r.delivered_at.toISOString() : null,
  };
}
