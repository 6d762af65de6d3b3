import type { Limits } from '../limits/engine.js';
import type { UsageCounts } from '../usage/extract.js';
import type { Call } from './call.js';
import type { ProxyHandler } from './handler.js';
import type { KeyRef, UsableKey } from './provider-key.js';

/**
 * Spend limits on the proxy's path (limits/engine.ts): every call is admitted before it is sent,
 * on every route and the sandbox too, and what it reserved is settled when it ends.
 */

/** Admits the call, then sends it; with no await when the project has no limits (admit() is then null). */
export function admitThenSend(proxy: ProxyHandler, limits: Limits, call: Call, stored: UsableKey): void {
  const admission = limits.admit(call.ref as KeyRef, call.req, call.urlModel);
  if (admission === null) {
    proxy.send(call, stored);
    return;
  }
  admission
    .then((ticket) => {
      call.ticket = ticket;
      if (call.clientGone) proxy.finish(call);
      else proxy.send(call, stored);
    })
    .catch((err: unknown) => proxy.fail(call, err));
}

/**
 * Settles the call's reservation, if it made one: to the usage the answer reported, or to
 * nothing when BYO answered before the call reached the provider or the sandbox.
 */
export function settleSpend(limits: Limits, call: Call, usage: UsageCounts | undefined, status: number): void {
  if (call.ticket) limits.settle(call.ticket, usage, call.source !== 'byo', status);
}
