import type { Services } from '../services.js';
import type { ClaimedDelivery } from './claiming.js';
import { eventBody } from './event-body.js';
import { recordFailure, recordFinal, recordSuccess, releaseClaim } from './outcomes.js';
import { type AttemptResult, sendWebhook } from './sender.js';
import { signingSecrets } from './signing-secrets.js';

/**
 * One attempt of a claimed delivery (claiming.ts), shared by the dispatcher, the test command
 * and redelivery: sign and send it, then record the outcome (outcomes.ts), which schedules the
 * retry (retry-schedule.ts) and may disable a failing endpoint (endpoint-disabling.ts).
 */

export interface AttemptOptions {
  /** false for the test command: one attempt, no retries. */
  retry: boolean;
  /** Aborts the request (shutdown); the claim is then released without counting the attempt. */
  signal?: AbortSignal | undefined;
  /** Records a success (the dispatcher batches them); by default one UPDATE per delivery. */
  recordSuccess?: ((d: ClaimedDelivery, r: AttemptResult) => Promise<void>) | undefined;
}

/** Sends one claimed delivery and records the outcome. */
export async function attemptDelivery(services: Services, d: ClaimedDelivery, opts: AttemptOptions): Promise<AttemptResult> {
  let result: AttemptResult;
  if (!d.endpointEnabled) {
    result = { ok: false, statusCode: null, latencyMs: 0, responseBody: null, error: 'endpoint disabled', retryAfterSeconds: null };
    await recordFinal(services.db, d, result);
    return result;
  }
  let secrets: string[];
  try {
    secrets = signingSecrets(services, d);
  } catch (err) {
    services.logger.error({ err, deliveryId: d.id, endpointId: d.endpointId }, 'webhook secret could not be decrypted');
    result = {
      ok: false,
      statusCode: null,
      latencyMs: 0,
      responseBody: null,
      error: 'the signing secret could not be decrypted (master key missing?)',
      retryAfterSeconds: null,
    };
    await recordFailure(services, d, result, opts.retry);
    return result;
  }
  result = await sendWebhook({
    url: d.url,
    eventId: d.eventId,
    body: eventBody({ id: d.eventId, type: d.eventType, createdAt: d.eventCreatedAt, mode: d.mode, data: d.eventData }),
    secrets,
    timeoutMs: services.config.BYO_WEBHOOK_TIMEOUT,
    dispatcher: services.agents.guarded,
    signal: opts.signal,
  });
  if (!result.ok && opts.signal?.aborted) {
    await releaseClaim(services.db, d);
    return result;
  }
  if (result.ok) await (opts.recordSuccess ?? ((x, r) => recordSuccess(services.db, x, r)))(d, result);
  else await recordFailure(services, d, result, opts.retry);
  return result;
}
