import type { Kysely } from 'kysely';
import { randomId } from '../auth/api-key-format.js';
import type { Database, Mode } from '../db/schema.js';
import type { EventInput } from '../schemas/events.js';

export type { EventData, EventInput, EventType } from '../schemas/events.js';

/** The outbox channel the webhook dispatcher listens on, to wake up right after a commit. */
export const EVENTS_CHANNEL = 'byo_events';

/**
 * Writes an event to the outbox. Call it with the transaction that makes the change, so the
 * event exists if and only if the change committed. The data must be that of the type
 * (schemas/events.ts), which is what endpoints receive.
 */
export async function emitEvent(trx: Kysely<Database>, e: EventInput & { projectId: string; mode: Mode }): Promise<string> {
  const id = randomId('evt');
  await trx
    .insertInto('events')
    .values({ id, project_id: e.projectId, mode: e.mode, type: e.type, data: JSON.stringify(e.data) })
    .execute();
  return id;
}
