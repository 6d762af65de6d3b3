import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { KeyPrincipal } from '../auth/authenticator.js';
import type { ProviderName } from '../db/schema.js';
import { BYOError } from '../errors.js';
import { renderProviderError } from '../errors/render.js';
import type { Limits } from '../limits/engine.js';
import { ClientClosedError } from '../net/request-body.js';
import type { Metrics } from '../observability/metrics.js';
import { isSandboxKey, type ProviderSpec } from '../providers/catalog.js';
import { PROVIDER_IDS } from '../providers/registry.js';
import { isRefId } from '../schemas/common.js';
import type { Services } from '../services.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { CallAccounting } from './accounting.js';
import { upload, wholeBody } from './body.js';
import { Call } from './call.js';
import { concurrencyLimited, proxyUnauthorized } from './errors.js';
import { UpstreamExchange } from './exchange.js';
import { addProof, BASE_HEADERS, callerCredential, hasDotSegment, takeQueryKey, upstreamRequestHeaders } from './headers.js';
import { InFlight } from './in-flight.js';
import type { KeyRef, ProviderKeyResolver, UsableKey } from './provider-key.js';
import { bedrockModel } from './models.js';
import { answerFromSandbox } from './sandbox-answer.js';
import { NO_SETTINGS, sendSigned } from './signed.js';
import { admitThenSend, settleSpend } from './spend.js';
import { originForm } from './url.js';

export { upstreamError } from './errors.js';

export const PROXY_PREFIX = '/v1/proxy/';
/** The proxy's provider segments: every id in the registry. */
export const PROVIDERS: ReadonlySet<string> = new Set<string>(PROVIDER_IDS);

export interface ProxyDeps {
  services: Services;
  metrics: Metrics;
  recorder: UsageRecorder;
  keys: ProviderKeyResolver;
  /** Spend limits: checked before every call is sent (limits/engine.ts). */
  limits: Limits;
}

/**
 * `ANY /v1/proxy/{provider}/{path...}`: authenticate the BYO secret key from memory, find the
 * customer's provider key from memory, and stream the request to the provider and the answer
 * back, bytes untouched, through undici's dispatcher API. The steps, in order: run() (the URL,
 * the caller), authorized() (the refId, the project's place, the key), forward() (the path
 * check, spend limits: spend.ts), send() (the sandbox: sandbox-answer.ts; a signed provider:
 * signed.ts; else dispatch()), and finish() once (spend.ts, accounting.ts); fail() on the way.
 */
export class ProxyHandler {
  private readonly bases = new Map<string, { origin: string; path: string }>();
  /** Metrics, usage records and disabling rejected keys, once a call has ended. */
  readonly accounting: CallAccounting;
  /** Calls in flight per project (and mode), and per project and custom origin: see in-flight.ts. */
  private readonly projects: InFlight;
  private readonly origins: InFlight;
  /** BYO_PROXY_IDLE_READ_TIMEOUT: how long a client may leave a response unread (0: forever). */
  readonly idleReadMs: number;
  private readonly specs: Record<ProviderName, ProviderSpec>;

  constructor(readonly deps: ProxyDeps) {
    const { config } = deps.services;
    this.specs = deps.services.providers;
    this.accounting = new CallAccounting(deps);
    this.projects = new InFlight(config.BYO_PROXY_MAX_CONCURRENCY);
    this.origins = new InFlight(config.BYO_PROXY_MAX_CONCURRENCY_PER_ORIGIN);
    this.idleReadMs = config.BYO_PROXY_IDLE_READ_TIMEOUT;
  }

  /** The Fastify handler. It hijacks the reply and writes to the raw response itself. */
  readonly handle = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack();
    this.start(request.raw, reply.raw, request.id, (request.params as { provider: string }).provider);
  };

  /**
   * The Node.js handler, called by the HTTP server before Fastify for `/v1/proxy/{provider}/...`
   * (see index.ts): the same call without Fastify's routing, hooks and reply objects, which
   * cost about a fifth of a proxied call's CPU. Its responses carry the headers Fastify's hooks
   * would set (BASE_SECURITY_HEADERS, passed to writeHead() with the rest).
   */
  readonly handleRaw = (req: IncomingMessage, res: ServerResponse, requestId: string, provider: string): void => {
    this.start(req, res, requestId, provider);
  };

  private start(req: IncomingMessage, res: ServerResponse, requestId: string, provider: string): void {
    const startedAt = performance.now();
    const call = new Call((PROVIDERS.has(provider) ? provider : 'openai') as ProviderName, requestId, req, res, startedAt);
    // The one 'close' listener of the call: the client left before the response ended.
    // (`on`, not `once`: 'close' comes once, and once() wraps the listener per call.)
    call.res.on('close', () => {
      if (call.res.writableFinished) return;
      call.clientGone = true;
      call.exchange?.clientGone();
    });
    if (!PROVIDERS.has(provider)) {
      this.fail(
        call,
        new BYOError(
          'not_found',
          `Unknown provider "${provider}". The proxy serves /v1/proxy/{provider} for ${PROVIDER_IDS.join(', ')} (GET /v1/providers lists them).`,
        ),
      );
      return;
    }
    try {
      this.run(call);
    } catch (err) {
      this.fail(call, err);
    }
  }

  /**
   * Parses the URL and authenticates the caller. A cached BYO key and a cached provider key take
   * the call to the provider without a single await (two awaits cost more than both lookups);
   * a miss continues when the database has answered.
   */
  private run(call: Call): void {
    const { services } = this.deps;
    const { req } = call;
    // An absolute-form target (`GET http://host/v1/proxy/...`, which Fastify routes here) is
    // read from its path; the host in it is never used.
    const url = originForm(req.url ?? '/');
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const afterPrefix = rawPath.slice(PROXY_PREFIX.length);
    const slash = afterPrefix.indexOf('/');
    call.subPath = slash === -1 ? '/' : afterPrefix.slice(slash);
    if (hasDotSegment(call.subPath)) throw new BYOError('bad_request', 'The proxied path may not contain "." or ".." segments.');
    const { key: queryKey, query } = takeQueryKey(q === -1 ? '' : url.slice(q + 1));
    call.query = query;

    const token = callerCredential(req.headers, queryKey);
    if (!token?.startsWith('byo_')) throw proxyUnauthorized();
    const principal = services.auth.cachedKey(token);
    if (principal) {
      this.authorized(call, principal);
      return;
    }
    services.auth
      .authenticateKey(token)
      .then(
        (p) => this.authorized(call, p),
        (err: unknown) => this.fail(call, err instanceof BYOError && err.code === 'unauthorized' ? proxyUnauthorized() : err),
      )
      .catch((err: unknown) => this.fail(call, err));
  }

  /** The caller is a known BYO key: check what it asks for and find the customer's provider key. */
  private authorized(call: Call, principal: KeyPrincipal): void {
    if (principal.kind !== 'sk')
      throw new BYOError(
        'permission_denied',
        'A publishable key (byo_pk_) cannot use the proxy. Use your secret key (byo_sk_) from your backend.',
      );
    const refHeader = call.req.headers['x-byo-ref-id'];
    const refId = typeof refHeader === 'string' ? refHeader : undefined;
    if (!refId || !isRefId(refId))
      throw new BYOError(
        'missing_ref_id',
        refId
          ? 'X-BYO-Ref-Id must be 1-256 characters of A-Z a-z 0-9 _ . : @ + -, and not only dots.'
          : "Set the X-BYO-Ref-Id header to the refId of the customer whose key to use (your SDK's default headers).",
      );
    const { projects } = this;
    if (projects.limit > 0) {
      const slot = projects.cached(principal) ?? projects.bind(principal, `${principal.projectId}|${principal.mode}`);
      if (!projects.take(slot)) throw concurrencyLimited(`This project already has ${projects.limit} proxied calls in flight`);
      call.slot = slot;
    }
    const ref: KeyRef = { projectId: principal.projectId, mode: principal.mode, provider: call.provider, refId };
    call.ref = ref;
    call.test = principal.mode === 'test';
    if (call.provider === 'google' || call.provider === 'vertex') call.urlModel = /\/models\/([^/:?]+)/.exec(call.subPath)?.[1] ?? null;
    else if (call.provider === 'bedrock') call.urlModel = bedrockModel(call.subPath);

    const stored = this.deps.keys.cached(ref);
    if (stored) {
      this.forward(call, stored);
      return;
    }
    this.deps.keys
      .load(ref)
      .then((s) => this.forward(call, s))
      .catch((err: unknown) => this.fail(call, err));
  }

  /** Sends the call to the provider (or the sandbox) with the customer's key. */
  private forward(call: Call, stored: UsableKey): void {
    if (stored.version) call.used = { id: stored.id, version: stored.version };
    call.key = stored;
    if (call.clientGone) {
      this.finish(call);
      return;
    }
    const { signer } = this.specs[call.provider];
    // Before the sandbox too: a path for another project or location is the caller's mistake in test mode as well.
    signer?.checkPath?.(call.subPath, stored.settings ?? NO_SETTINGS);
    // Spend limits, on every route.
    admitThenSend(this, this.deps.limits, call, stored);
  }

  /** The call as admitted: answered by the sandbox, signed, or sent as it came with the key's header. */
  send(call: Call, stored: UsableKey): void {
    const { signer } = this.specs[call.provider];
    if (call.test && this.deps.services.config.BYO_SANDBOX && isSandboxKey(stored.key)) {
      answerFromSandbox(this, call, stored.key).catch((err: unknown) => this.fail(call, err));
      return;
    }
    if (signer) {
      sendSigned(this, call, stored, signer);
      return;
    }
    const { req } = call;
    const cl = req.headers['content-length'];
    if (cl !== undefined && req.readableLength < Number(cl) && !req.complete && req.headers['transfer-encoding'] === undefined) {
      // Called while node's parser is still at the request's headers (a cached key makes the
      // whole call synchronous): a small body is usually in the same read and parsed as soon
      // as this returns. One tick later it can go upstream with the headers in one write
      // (wholeBody) instead of through a stream pipe, which cost about a tenth of a call's CPU.
      process.nextTick(() => {
        if (call.clientGone) return this.finish(call);
        try {
          this.dispatch(call, stored);
        } catch (err) {
          this.fail(call, err); // no caller left to catch it: a throw here would end the process
        }
      });
      return;
    }
    this.dispatch(call, stored);
  }

  private dispatch(call: Call, stored: UsableKey): void {
    const { req, subPath, query } = call;
    const spec = this.specs[call.provider];
    const base = this.upstreamBase(stored.baseUrl ?? spec.defaultBase);
    const method = req.method ?? 'GET';
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    const hasBody = method !== 'GET' && method !== 'HEAD' && (te !== undefined || (cl !== undefined && cl !== '0'));
    const { origins } = this;
    if (stored.baseUrl && origins.limit > 0) {
      // A custom origin's pool is shared by every project that points at it (openrouter.ai, say).
      const ref = call.ref as KeyRef;
      const slot = origins.cached(stored) ?? origins.bind(stored, `${ref.projectId}|${ref.mode}|${base.origin}`);
      if (!origins.take(slot))
        throw concurrencyLimited(`This project already has ${origins.limit} proxied calls in flight to ${base.origin}`);
      call.originSlot = slot;
    }
    const exchange = new UpstreamExchange(this, call, Boolean(stored.baseUrl));
    call.dispatchedAt = performance.now();
    const { agents } = this.deps.services;
    (stored.baseUrl ? agents.guarded : agents.trusted).dispatch(
      {
        origin: base.origin,
        path: query ? `${base.path}${subPath}?${query}` : `${base.path}${subPath}`,
        method: method as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(req.rawHeaders, req.headers.connection, spec.authHeader, spec.authValue(stored.key)),
        body: hasBody ? (call.ticket?.body ?? wholeBody(req, te, cl) ?? upload(req)) : null,
      },
      exchange,
    );
  }

  /** Whether this upstream answer refuses the stored key itself (then finish() disables it); a 401 also drops a minted token. */
  keyRefused(call: Call, status: number, headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
    if (status !== 401 && status !== 403) return false;
    const spec = this.specs[call.provider];
    const credential = call.key?.credential;
    if (status === 401 && credential !== undefined) spec.signer?.forget?.(credential, this.deps.services.signing);
    return spec.rejectsKey(status, headers);
  }

  /** An upstream base URL's origin and path, parsed once per URL. */
  upstreamBase(url: string): { origin: string; path: string } {
    let b = this.bases.get(url);
    if (!b) {
      const u = new URL(url);
      b = { origin: u.origin, path: u.pathname.replace(/\/+$/, '') };
      if (this.bases.size > 10_000) this.bases.clear();
      this.bases.set(url, b);
    }
    return b;
  }

  /** Sends an error BYO produced, in the provider's error shape; or ends a started response. */
  fail(call: Call, err: unknown): void {
    const { res } = call;
    if (err instanceof ClientClosedError || call.clientGone) {
      if (!res.destroyed) res.destroy();
      this.finish(call);
      return;
    }
    if (res.headersSent) {
      // Mid-stream: the status is out already; ending the connection is the honest signal.
      res.destroy();
      this.finish(call);
      return;
    }
    const { status, headers, body } = renderProviderError(call.provider, err, call.requestId, {
      logger: this.deps.services.logger,
      message: 'unexpected proxy error',
    });
    call.status = status;
    call.source = 'byo';
    addProof(headers, call.key?.proof);
    res.writeHead(status, { ...BASE_HEADERS, ...headers });
    res.end(body);
    this.finish(call);
  }

  /** Accounting once per call: metrics, usage record, key disabling on a provider 401/403. */
  finish(call: Call): void {
    if (call.finished) return;
    call.finished = true;
    const { req } = call;
    if (!req.complete && !req.destroyed) {
      // Answered before the whole body arrived (a provider or the sandbox refusing it early): read
      // and drop the rest, as node does with a body nobody read, so that the connection serves
      // the client's next request (a half-read body would leave it stalled) and a client that
      // sends all of its body before reading gets the answer.
      req.unpipe();
      req.removeAllListeners('data');
      req.resume();
    }
    if (call.slot) this.projects.release(call.slot);
    if (call.originSlot) this.origins.release(call.originSlot);
    call.exchange?.settle();
    const now = performance.now();
    const status = call.clientGone && call.status === 0 ? 499 : call.status || 500;
    const { accounting, deps } = this;
    accounting.measure(call, status);
    const ref = call.ref;
    // Answered by BYO before it was sent: no usage to record, nothing spent but the request.
    if (!ref || (call.source === 'byo' && !call.dispatchedAt)) {
      settleSpend(deps.limits, call, undefined, status);
      return;
    }
    const usage = accounting.usage(call);
    settleSpend(deps.limits, call, usage, status);
    accounting.record(call, ref, status, usage, now);
    if (call.keyRejected && call.source !== 'byo' && call.used) accounting.disable(ref, call.used, status);
  }

  /** A client read nothing for BYO_PROXY_IDLE_READ_TIMEOUT and was cut off. */
  stalledClient(): void {
    this.deps.metrics.stalledClients.inc();
  }
}
