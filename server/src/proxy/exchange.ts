import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { BYOError } from '../errors.js';
import { usageTapFor } from '../usage/extract.js';
import { ClientClosedError } from '../net/request-body.js';
import type { Call } from './call.js';
import { upstreamError } from './errors.js';
import type { ProxyHandler } from './handler.js';
import { clientResponseHeaders } from './headers.js';

/**
 * undici dispatch handler: writes the upstream status, headers and body chunks straight to
 * the client's response, pausing the upstream while the client's socket is full
 * (backpressure), aborting it when the client leaves.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private started = false;
  private corked = false;
  /** Made on the first backpressure: most calls never need it. */
  private onDrain: (() => void) | null = null;
  /**
   * Since when the client's socket has been full (0: it is not), and the timer that cuts off a
   * client that stays so for `idleReadMs`: a client that stops reading would otherwise hold an
   * upstream connection and its project's place until BYO_UPSTREAM_BODY_TIMEOUT. One timer per
   * call at most, made on the first backpressure and re-armed with refresh().
   */
  private stalledAt = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  private stallArmed = false;
  private readonly uncork = () => {
    this.corked = false;
    this.call.res.uncork();
  };

  constructor(
    private readonly proxy: ProxyHandler,
    private readonly call: Call,
    /** The upstream is a base URL a customer chose (its answer's content type is neutralised, headers.ts). */
    private readonly customUpstream: boolean,
  ) {
    call.exchange = this;
  }

  clientGone(): void {
    if (!this.call.finished) this.controller?.abort(new ClientClosedError());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.call.clientGone) controller.abort(new ClientClosedError());
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: informational
    const call = this.call;
    call.upstreamHeadersAt = performance.now();
    if (statusCode >= 300 && statusCode < 400 && statusCode !== 304 && headers.location !== undefined) {
      // Never followed, never handed to the client either (its SDK would follow it with the BYO key).
      this.proxy.fail(
        call,
        new BYOError('upstream_unreachable', `The provider answered with a redirect (HTTP ${statusCode}), which BYO does not follow.`),
      );
      controller.abort(new ClientClosedError());
      return;
    }
    this.started = true;
    call.source = 'upstream';
    call.status = statusCode;
    if (statusCode === 401 || statusCode === 403) call.keyRejected = this.proxy.keyRefused(call, statusCode, headers);
    const ct = headers['content-type'];
    const ce = headers['content-encoding'];
    const contentType = Array.isArray(ct) ? ct[0] : ct;
    call.tap = usageTapFor(contentType, Array.isArray(ce) ? ce[0] : ce);
    const res = call.res;
    this.cork();
    res.writeHead(statusCode, clientResponseHeaders(headers, call.requestId, this.customUpstream, call.key?.proof));
    // A stream's headers leave now even if its first event is slow; when the first bytes
    // came in the same read, the cork sends headers and bytes in one write.
    if (contentType?.startsWith('text/event-stream')) res.flushHeaders();
    call.clientHeadersAt = performance.now();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.started) return;
    this.call.tap?.push(chunk);
    this.cork();
    if (!this.call.res.write(chunk)) {
      controller.pause();
      this.onDrain ??= () => {
        this.stalledAt = 0;
        this.controller?.resume();
      };
      this.call.res.once('drain', this.onDrain);
      this.stalled();
    }
  }

  private stalled(): void {
    const ms = this.proxy.idleReadMs;
    if (ms === 0) return;
    this.stalledAt = performance.now();
    if (this.stallArmed) return; // the armed timer checks stalledAt when it fires
    this.stallArmed = true;
    if (this.stallTimer) this.stallTimer.refresh();
    else this.stallTimer = setTimeout(checkStall, ms, this).unref();
  }

  /** The stall timer fired (through checkStall(), so that no call allocates a closure for it). */
  onStallTimer(): void {
    this.stallArmed = false;
    if (this.stalledAt === 0 || this.call.finished) return;
    const left = this.stalledAt + this.proxy.idleReadMs - performance.now();
    if (left > 0) {
      // Drained and full again since the timer was set: wait out the rest of this stall.
      this.stallArmed = true;
      this.stallTimer = setTimeout(checkStall, left, this).unref();
      return;
    }
    // 'close' follows: the upstream request is aborted and finish() frees the call's places.
    this.proxy.stalledClient();
    this.call.res.destroy();
  }

  /** The call is over: no stall check may outlive it. */
  settle(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
  }

  /** Coalesces everything written in this tick (headers, chunks, the end) into one socket write. */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.call.res.cork();
    process.nextTick(this.uncork);
  }

  onResponseEnd(): void {
    if (!this.started) return;
    this.call.res.end();
    this.proxy.finish(this.call);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.call.finished) return;
    if (err instanceof ClientClosedError || this.call.clientGone) {
      this.proxy.fail(this.call, new ClientClosedError());
      return;
    }
    if (this.started) {
      // The provider died or stalled mid-answer: end the client's response now.
      this.proxy.fail(this.call, err);
      return;
    }
    this.proxy.fail(this.call, upstreamError(err));
  }
}

function checkStall(exchange: UpstreamExchange): void {
  exchange.onStallTimer();
}

/** Resolves when `res` can take more, or has closed; a client that reads nothing for `idleMs` is cut off (the sandbox's streams). */
export function drainedOrCutOff(res: ServerResponse, idleMs: number, proxy: ProxyHandler): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer =
      idleMs > 0
        ? setTimeout(() => {
            proxy.stalledClient();
            res.destroy();
          }, idleMs).unref()
        : null;
    const done = () => {
      if (timer) clearTimeout(timer);
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.once('drain', done).once('close', done);
  });
}
