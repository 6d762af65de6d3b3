import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ClaimedDelivery } from './claiming.js';
import type { AttemptResult } from './sender.js';

/**
 * Records successes in batches: one UPDATE for every success that completed while the previous
 * batch was being written (at volume this is most of the dispatcher's database work).
 */
export class SuccessBatcher {
  private queue: { d: ClaimedDelivery; r: AttemptResult; done: (err?: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 500,
  ) {}

  record = (d: ClaimedDelivery, r: AttemptResult): Promise<void> =>
    new Promise((resolve, reject) => {
      this.queue.push({ d, r, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.write(batch);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err);
      }
    }
    this.running = false;
  }

  private async write(batch: { d: ClaimedDelivery; r: AttemptResult }[]): Promise<void> {
    const col = <T>(f: (x: { d: ClaimedDelivery; r: AttemptResult }) => T) => batch.map(f);
    await sql`
      update webhook_deliveries as d set
        status = 'succeeded', delivered_at = now(), next_attempt_at = null, locked_until = null, updated_at = now(),
        last_status_code = v.code, last_error = null, last_response = v.resp, last_latency_ms = v.lat
      from unnest(
        ${col((x) => x.d.id)}::text[], ${col((x) => x.d.lockedUntil.toISOString())}::timestamptz[],
        ${col((x) => x.r.statusCode)}::int[], ${col((x) => x.r.responseBody)}::text[], ${col((x) => x.r.latencyMs)}::int[]
      ) as v(id, lu, code, resp, lat)
      where d.id = v.id and d.locked_until = v.lu`.execute(this.db);
    const failing = [...new Set(batch.filter((x) => x.d.endpointFailing).map((x) => x.d.endpointId))];
    if (failing.length > 0) {
      await this.db
        .updateTable('webhook_endpoints')
        .set({ failing_since: null })
        .where('id', 'in', failing)
        .where('failing_since', 'is not', null)
        .execute();
    }
  }
}
