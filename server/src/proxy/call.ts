import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProviderName } from '../db/schema.js';
import type { KeyVersion } from '../domain/provider-keys.js';
import type { Ticket } from '../limits/engine.js';
import type { ProxyAnswerSource } from '../observability/metrics.js';
import type { UsageTap } from '../usage/extract.js';
import type { UpstreamExchange } from './exchange.js';
import type { Slot } from './in-flight.js';
import type { KeyRef, UsableKey } from './provider-key.js';

export /** The state of one proxied call, from arrival to the last byte (or the client leaving). */
class Call {
  status = 0;
  source: ProxyAnswerSource = 'byo';
  ref: KeyRef | null = null;
  /** The stored key version sent upstream: a provider 401/403 disables this version only. */
  used: KeyVersion | null = null;
  /** The stored key chosen for the call: every answer from then on carries its proof headers. */
  key: UsableKey | null = null;
  /** Model named in the URL (Gemini), used when the response names none. */
  urlModel: string | null = null;
  /** The provider path after `/v1/proxy/{provider}`, and the query string without any `key=`. */
  subPath = '/';
  query = '';
  /** A test-mode BYO key made the call (the sandbox may answer). */
  test = false;
  tap: UsageTap | null = null;
  dispatchedAt = 0;
  upstreamHeadersAt = 0;
  clientHeadersAt = 0;
  clientGone = false;
  finished = false;
  /** The in-flight places this call holds (its project's, and its project's at a custom origin), released in finish(). */
  slot: Slot | null = null;
  originSlot: Slot | null = null;
  /** The upstream exchange, once dispatched: aborted when the client leaves. */
  exchange: UpstreamExchange | null = null;
  /** What the call reserved against spend limits (and the body it read to estimate); settled in finish(). */
  ticket: Ticket | null = null;
  /** The answer says the stored key itself was refused (its provider's rejectsKey): finish() disables it. */
  keyRejected = false;
  constructor(
    readonly provider: ProviderName,
    readonly requestId: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly startedAt: number,
  ) {}
}
