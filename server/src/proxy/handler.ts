import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { KeyPrincipal } from '../auth/authenticator.js';
import type { ProviderName } from '../db/schema.js';
import { disableKey, type KeyVersion } from '../domain/provider-keys.js';
import { BYOError } from '../errors.js';
import { renderProviderError } from '../errors/render.js';
import { BASE_SECURITY_HEADERS } from '../http/security-headers.js';
import { ClientClosedError, readBody } from '../net/request-body.js';
import type { Metrics } from '../observability/metrics.js';
import { isSandboxKey, type ProviderSpec } from '../providers/catalog.js';
import { PROVIDER_IDS } from '../providers/registry.js';
import type { KeySettings, UpstreamSigner } from '../providers/types.js';
import { TokenRefusedError } from '../providers/vertex/token.js';
import { badJson, sandboxRespond } from '../sandbox/index.js';
import { isRefId } from '../schemas/common.js';
import type { Services } from '../services.js';
import { cutStreamCounts, type UsageTap, usageTapFor } from '../usage/extract.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { callerCredential, forwardedHeaders, hasDotSegment, takeQueryKey, upstreamRequestHeaders } from './headers.js';
import type { Limits } from '../limits/engine.js';
import { InFlight } from './in-flight.js';
import { type KeyRef, type ProviderKeyResolver, type UsableKey, credentialId } from './keys.js';
import { bedrockModel } from './models.js';
import { upload, wholeBody } from './body.js';
import { Call } from './call.js';
import { concurrencyLimited, proxyUnauthorized } from './errors.js';
import { drainedOrCutOff, UpstreamExchange } from './exchange.js';
import { originForm } from './url.js';

export { upstreamError } from './errors.js';

export const PROXY_PREFIX = '/v1/proxy/';
const BASE_HEADERS: Readonly<Record<string, string>> = Object.fromEntries(BASE_SECURITY_HEADERS);
/** Parsed on the event loop: an 8 MiB JSON array stalled every call for about a second. */
const SANDBOX_BODY_LIMIT = 1024 * 1024;
/** Read whole before signing (SigV4 hashes the body): Bedrock's own request limit is 25 MB with base64 documents and images. */
const SIGNED_BODY_LIMIT = 32 * 1024 * 1024;
const NO_SETTINGS: KeySettings = Object.freeze({});
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

type Observer = { observe(value: number): void };
type ProviderHistograms = { upstream: Observer; overhead: Observer };

/**
 * `ANY /v1/proxy/{provider}/{path...}` (issue 3, DESIGN "Proxy"): authenticate the BYO secret
 * key from memory, find the customer's provider key from memory, and stream the request to
 * the provider and the answer back, bytes untouched, through undici's dispatcher API.
 */
export class ProxyHandler {
  private readonly providerHistograms = new Map<ProviderName, ProviderHistograms>();
  private readonly bases = new Map<string, { origin: string; path: string }>();
  private readonly disabling = new Set<string>();
  /** Calls in flight per project (and mode), and per project and custom origin: see in-flight.ts. */
  private readonly projects: InFlight;
  private readonly origins: InFlight;
  /** BYO_PROXY_IDLE_READ_TIMEOUT: how long a client may leave a response unread (0: forever). */
  readonly idleReadMs: number;
  private readonly specs: Record<ProviderName, ProviderSpec>;

  constructor(private readonly deps: ProxyDeps) {
    const { config } = deps.services;
    this.specs = deps.services.providers;
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
    // Spend limits, on every route: null (no await) when the project has none.
    const admission = this.deps.limits.admit(call.ref as KeyRef, call.req, call.urlModel);
    if (admission === null) {
      this.send(call, stored);
      return;
    }
    admission
      .then((ticket) => {
        call.ticket = ticket;
        if (call.clientGone) this.finish(call);
        else this.send(call, stored);
      })
      .catch((err: unknown) => this.fail(call, err));
  }

  private send(call: Call, stored: UsableKey): void {
    const { signer } = this.specs[call.provider];
    if (call.test && this.deps.services.config.BYO_SANDBOX && isSandboxKey(stored.key)) {
      this.sandbox(call, stored.key, call.subPath, call.query).catch((err: unknown) => this.fail(call, err));
      return;
    }
    if (signer) {
      this.dispatchSigned(call, stored, signer).catch((err: unknown) => {
        if (err instanceof TokenRefusedError && call.ref && call.used) this.disable(call.ref, call.used, 401);
        this.fail(call, err);
      });
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
    const base = this.base(stored.baseUrl ?? spec.defaultBase);
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

  /**
   * A provider whose credential is signed or exchanged per call (Bedrock's SigV4, Vertex's
   * minted token): to the key's region's or location's host, with the headers its signer makes
   * over exactly what is sent. SigV4 hashes the body, so it is read whole first.
   */
  private async dispatchSigned(call: Call, stored: UsableKey, signer: UpstreamSigner): Promise<void> {
    const { req, subPath, query } = call;
    const settings = stored.settings ?? NO_SETTINGS;
    const base = this.base(signer.base(settings, this.specs[call.provider].configuredBase));
    const method = req.method ?? 'GET';
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    const hasBody = method !== 'GET' && method !== 'HEAD' && (te !== undefined || (cl !== undefined && cl !== '0'));
    const path = query ? `${base.path}${subPath}?${query}` : `${base.path}${subPath}`;
    const whole =
      hasBody && signer.needsBody ? (call.ticket?.body ?? (await readBody(req, SIGNED_BODY_LIMIT, 'Signed requests accept'))) : null;
    stored.credential ??= signer.parse(stored.key, settings, credentialId(stored));
    const headers = forwardedHeaders(req.rawHeaders, req.headers.connection);
    Object.assign(
      headers,
      await signer.authorize(stored.credential, { method, origin: base.origin, path, headers, body: whole }, this.deps.services.signing),
    );
    if (call.clientGone) return this.finish(call);
    const exchange = new UpstreamExchange(this, call, false);
    call.dispatchedAt = performance.now();
    this.deps.services.agents.trusted.dispatch(
      {
        origin: base.origin,
        path,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: whole ?? (hasBody ? (call.ticket?.body ?? wholeBody(req, te, cl) ?? upload(req)) : null),
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

  private base(url: string): { origin: string; path: string } {
    let b = this.bases.get(url);
    if (!b) {
      const u = new URL(url);
      b = { origin: u.origin, path: u.pathname.replace(/\/+$/, '') };
      if (this.bases.size > 10_000) this.bases.clear();
      this.bases.set(url, b);
    }
    return b;
  }

  /** Answers from the built-in sandbox (test mode, magic key): no network. */
  private async sandbox(call: Call, key: string, subPath: string, query: string): Promise<void> {
    const { req, res } = call;
    const method = (req.method ?? 'GET').toUpperCase();
    let body: unknown;
    let unparsable = false;
    if (method !== 'GET' && method !== 'HEAD') {
      const text = (call.ticket?.body ?? (await readBody(req, SANDBOX_BODY_LIMIT, 'The sandbox accepts'))).toString('utf8');
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          unparsable = true;
        }
      }
    }
    const out = unparsable
      ? badJson(call.provider)
      : sandboxRespond(call.provider, key, { method, path: subPath, query: new URLSearchParams(query), body });
    if (call.clientGone) return this.finish(call);
    call.source = 'sandbox';
    call.status = out.status;
    // The magic invalid key is refused like a real one, whatever the provider's finer rules.
    call.keyRejected = out.status === 401 || out.status === 403;
    const headers: Record<string, string> = {
      ...out.headers,
      ...BASE_HEADERS,
      'x-byo-request-id': call.requestId,
      'x-byo-sandbox': 'true',
    };
    addProof(headers, call.key);
    call.tap = usageTapFor(out.headers['content-type'], undefined);
    if (out.body !== undefined) {
      const buf = Buffer.from(out.body);
      call.tap?.push(buf);
      headers['content-length'] = String(buf.length);
      res.writeHead(out.status, headers);
      call.clientHeadersAt = performance.now();
      res.end(method === 'HEAD' ? undefined : buf);
      return this.finish(call);
    }
    res.writeHead(out.status, headers);
    res.flushHeaders();
    call.clientHeadersAt = performance.now();
    for (const event of out.events ?? []) {
      if (call.clientGone) break;
      const buf = Buffer.from(event);
      call.tap?.push(buf);
      if (!res.write(buf)) await drainedOrCutOff(res, this.idleReadMs, this);
      // Let each event leave as its own chunk, as a real stream's would.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (!call.clientGone) res.end();
    this.finish(call);
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
    addProof(headers, call.key);
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
    const { recorder } = this.deps;
    this.deps.metrics.proxiedCount(call.provider, status, call.source).n++;
    if (call.dispatchedAt) {
      let overhead = call.dispatchedAt - call.startedAt;
      const h = this.histograms(call.provider);
      if (call.upstreamHeadersAt) {
        h.upstream.observe((call.upstreamHeadersAt - call.dispatchedAt) / 1000);
        if (call.clientHeadersAt) overhead += call.clientHeadersAt - call.upstreamHeadersAt;
      }
      h.overhead.observe(overhead / 1000);
    }
    const ref = call.ref;
    if (call.ticket && call.source === 'byo' && !call.dispatchedAt) this.deps.limits.settle(call.ticket, undefined, false, status);
    if (!ref || (call.source === 'byo' && !call.dispatchedAt)) return;
    const tapped = call.tap?.finish();
    const usage = tapped && call.clientGone ? cutStreamCounts(tapped, call.tap as UsageTap) : tapped;
    if (usage?.rejected) for (const [reason, n] of Object.entries(usage.rejected)) this.deps.metrics.usageValuesRejected.inc({ reason }, n);
    if (call.ticket) this.deps.limits.settle(call.ticket, usage, call.source !== 'byo', status);
    recorder.record({
      projectId: ref.projectId,
      mode: ref.mode,
      refId: ref.refId,
      provider: ref.provider,
      keyId: call.key?.id ?? null,
      model: usage?.model ?? call.urlModel,
      status,
      latencyMs: Math.round(now - call.startedAt),
      inputTokens: usage?.inputTokens ?? null,
      outputTokens: usage?.outputTokens ?? null,
      totalTokens: usage?.totalTokens ?? null,
      cachedInputTokens: usage?.cachedInputTokens ?? null,
      cacheWriteTokens: usage?.cacheWriteTokens ?? null,
      createdAt: Date.now(),
    });
    if (call.keyRejected && call.source !== 'byo' && call.used) this.disable(ref, call.used, status);
  }

  /** A client read nothing for BYO_PROXY_IDLE_READ_TIMEOUT and was cut off. */
  stalledClient(): void {
    this.deps.metrics.stalledClients.inc();
  }

  /** The provider's histogram children, looked up once. */
  private histograms(provider: ProviderName): ProviderHistograms {
    let h = this.providerHistograms.get(provider);
    if (!h) {
      const { metrics } = this.deps;
      h = { upstream: metrics.upstreamLatency.labels(provider), overhead: metrics.overhead.labels(provider) };
      this.providerHistograms.set(provider, h);
    }
    return h;
  }

  /**
   * The provider rejected the key this call sent: mark that version disabled (emits
   * `key.disabled` once; nothing if the key was replaced meanwhile).
   */
  private disable(ref: KeyRef, used: KeyVersion, status: number): void {
    const id = `${used.id}|${used.version.toString('base64')}`;
    if (this.disabling.has(id)) return;
    this.disabling.add(id);
    disableKey(
      this.deps.services,
      ref,
      used,
      { actor: 'system:proxy' },
      `The provider rejected the key (HTTP ${status}) on a proxied call.`,
    )
      .catch((err: unknown) => this.deps.services.logger.warn({ err, provider: ref.provider }, 'could not disable a rejected key'))
      .finally(() => this.disabling.delete(id));
  }
}

/** Adds the chosen key's proof headers (none before a key was chosen) to a header object. */
function addProof(headers: Record<string, string>, key: UsableKey | null): void {
  const proof = key?.proof;
  if (proof) for (let i = 0; i < proof.length; i += 2) headers[proof[i] as string] = proof[i + 1] as string;
}
