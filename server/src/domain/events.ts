import type { Kysely } from 'kysely';
import { randomId } from '../auth/api-key-format.js';
import type { Database, Mode } from '../db/schema.js';

export const EVENT_TYPES = [
  'key.connected',
  'key.revoked',
  'key.disabled',
  'key.validation_failed',
  'key.models_changed',
  'limit.warning',
  'limit.exceeded',
  'webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface KeyEventData {
  provider: string;
  refId: string;
  keyHint: string | null;
  reason?: string;
  [k: string]: unknown;
}

/** The outbox channel the webhook dispatcher listens on, to wake up right after a commit. */
export const EVENTS_CHANNEL = 'byo_events';

/**
 * Writes an event to the outbox. Call it with the transaction that makes the change, so the
 * event exists if and only if the change committed.
 */
export async function emitEvent(
  trx: Kysely<Database>,
  e: { projectId: string; mode: Mode; type: EventType; data: KeyEventData | Record<string, unknown> },
): Promise<string> {
  const id = randomId('evt');
  await trx
    .insertInto('events')
    .values({ id, project_id: e.projectId, mode: e.mode, type: e.type, data: JSON.stringify(e.data) })
    .execute();
  return id;
}
