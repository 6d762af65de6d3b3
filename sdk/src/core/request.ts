import { isObject, mergeHeaders, parseRetryAfterMs, sleep, uuid4 } from '../internal/utils.js';
import {
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  BYOKError,
  ConflictError,
  type ErrorInit,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  UnprocessableEntityError,
  ValidationError,
} from './errors.js';

/** Per-call options, the last argument of every method. */
export interface RequestOptions {
  /** Aborts the request (and a stream being read). */
  signal?: AbortSignal | undefined;
  /** Milliseconds until the response headers (and, when not streaming, the body) must have arrived. */
  timeout?: number | undefined;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
  /** Extra headers; `null` removes a default header. */
  headers?: Record<string, string | null | undefined> | undefined;
  /** Key-management writes only: the `Idempotency-Key` to send (one is generated otherwise). */
  idempotencyKey?: string | undefined;
}

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface TransportConfig {
  /** Sent as `Authorization: Bearer` on BYO's own API (proxied calls authenticate the provider's way). */
  apiKey: string;
  baseURL: string;
  timeout: number;
  maxRetries: number;
  fetch: Fetch;
}

export interface HTTPRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute path on the BYO server, e.g. `/v1/keys` or `/v1/proxy/openai/chat/completions`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  /** Set for proxied calls: an error without `x-byo-error-source: byo` is then the provider's. */
  provider?: string | undefined;
  stream?: boolean | undefined;
  /** Send an `Idempotency-Key` (the same on every attempt), so a retried write happens once. */
  idempotent?: boolean | undefined;
}

export const INITIAL_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 8_000;
/** A `Retry-After` longer than this is not waited for: the error goes to the caller. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface RawResponse {
  response: Response;
  /** Aborts the response body (used by streams). */
  controller: AbortController;
  requestId: string | undefined;
  /** Unlinks the caller's `AbortSignal`; call when done with the body. */
  release: () => void;
}

/** Sends requests with timeouts, retries (backoff + jitter, `Retry-After`) and typed errors. */
export class Transport {
  readonly config: TransportConfig;
  constructor(config: TransportConfig) {
    // The key is kept off the enumerable properties, so inspecting a client does not print it.
    const { apiKey, ...rest } = config;
    this.config = Object.defineProperty({ ...rest } as TransportConfig, 'apiKey', { value: apiKey, enumerable: false });
  }

  buildURL(path: string, query?: HTTPRequest['query']): string {
    const url = new URL(this.config.baseURL.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** A JSON call: resolves to the parsed body. */
  async json<T>(req: HTTPRequest, options: RequestOptions = {}): Promise<T> {
    const raw = await this.send(req, options, true);
    return raw as T;
  }

  /** A streaming call: resolves once a 2xx response's headers arrived; the body is the caller's to read. */
  async stream(req: HTTPRequest, options: RequestOptions = {}): Promise<RawResponse> {
    return (await this.send({ ...req, stream: true }, options, false)) as RawResponse;
  }

  private async send(req: HTTPRequest, options: RequestOptions, readBody: boolean): Promise<unknown> {
    const maxRetries = options.maxRetries ?? this.config.maxRetries;
    const timeout = options.timeout ?? this.config.timeout;
    const url = this.buildURL(req.path, req.query);
    const headers = mergeHeaders(
      { accept: req.stream ? 'text/event-stream' : 'application/json' },
      req.provider === undefined ? { authorization: `Bearer ${this.config.apiKey}` } : undefined,
      req.body !== undefined ? { 'content-type': 'application/json' } : undefined,
      req.idempotent ? { 'idempotency-key': options.idempotencyKey ?? `byo-sdk-${uuid4()}` } : undefined,
      req.headers,
      options.headers,
    );
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);

    for (let attempt = 0; ; attempt++) {
      const retriesLeft = maxRetries - attempt;
      if (options.signal?.aborted) throw new APIUserAbortError();
      const controller = new AbortController();
      let timedOut = false;
      const onUserAbort = () => controller.abort(options.signal?.reason);
      options.signal?.addEventListener('abort', onUserAbort, { once: true });
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onUserAbort);
      };
      const failure = (err: unknown): BYOKError => {
        if (options.signal?.aborted) return new APIUserAbortError(undefined, { cause: err });
        if (timedOut) return new TimeoutError(`Request timed out after ${timeout} ms.`, { cause: err });
        const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
        const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
        const detail = err instanceof Error && err.message ? `: ${err.message}${why ? ` (${why})` : ''}` : '';
        return new APIConnectionError(`Could not reach BYO at ${this.config.baseURL}${detail}`, { cause: err });
      };

      let response: Response;
      try {
        response = await this.config.fetch(url, { method: req.method, headers, body, signal: controller.signal });
      } catch (err) {
        cleanup();
        const e = failure(err);
        if (e instanceof APIConnectionError && retriesLeft > 0) {
          await this.backoff(attempt, undefined, options.signal);
          continue;
        }
        throw e;
      }

      const requestId = response.headers.get('x-byo-request-id') ?? undefined;
      if (!response.ok) {
        let text: string;
        try {
          text = await response.text();
        } catch (err) {
          cleanup();
          const e = failure(err);
          if (e instanceof APIConnectionError && retriesLeft > 0) {
            await this.backoff(attempt, undefined, options.signal);
            continue;
          }
          throw e;
        }
        cleanup();
        const error = makeAPIError(response.status, response.headers, text, req.provider);
        const retryAfter = parseRetryAfterMs(response.headers);
        if (retriesLeft > 0 && shouldRetry(error) && (retryAfter === undefined || retryAfter <= MAX_RETRY_AFTER_MS)) {
          await this.backoff(attempt, response.headers, options.signal);
          continue;
        }
        throw error;
      }

      if (!readBody) {
        clearTimeout(timer);
        // The user's signal stays linked to `controller`, so it still cancels the body.
        const release = () => options.signal?.removeEventListener('abort', onUserAbort);
        return { response, controller, requestId, release } satisfies RawResponse;
      }
      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        throw failure(err);
      } finally {
        cleanup();
      }
      if (text === '') return undefined;
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new BYOKError(`Could not parse the response as JSON (HTTP ${response.status}).`, {
          statusCode: response.status,
          requestId,
          headers: response.headers,
          body: text,
          cause: err,
        });
      }
    }
  }

  private async backoff(attempt: number, headers: Headers | undefined, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(retryDelayMs(attempt, headers), signal);
    } catch (err) {
      throw new APIUserAbortError(undefined, { cause: err });
    }
  }
}

/**
 * Connection errors, timeouts, BYO's own 408/429/5xx, and BYO's 409 `idempotency_in_progress`
 * (another request with this `Idempotency-Key` is still running: the retry, after its
 * `Retry-After`, gets that request's response) are retried (BYO's `x-should-retry` header has
 * the last word); a provider's errors are not.
 */
export function shouldRetry(error: BYOKError): boolean {
  if (error instanceof APIConnectionError) return true;
  if (error instanceof ProviderError || error.statusCode === undefined) return false;
  const hint = error.headers?.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  if (error.statusCode === 409) return error.code === 'idempotency_in_progress';
  return error.statusCode === 408 || error.statusCode === 429 || error.statusCode >= 500;
}

/** `Retry-After` when the server sent one (up to a minute), else exponential backoff with jitter. */
export function retryDelayMs(attempt: number, headers?: Headers, random: () => number = Math.random): number {
  const ra = parseRetryAfterMs(headers);
  if (ra !== undefined && ra <= MAX_RETRY_AFTER_MS) return ra;
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** attempt, MAX_RETRY_DELAY_MS);
  return base * (1 - random() * 0.25);
}

/**
 * An error response → the matching error class. On the proxy (`provider` set) the response is
 * BYO's own when it says `x-byo-error-source: byo`, or when it lacks BYO's request id (it then
 * came from something in front of BYO); otherwise the provider produced it.
 */
export function makeAPIError(status: number, headers: Headers, text: string, provider?: string): BYOKError {
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  const requestId = headers.get('x-byo-request-id') ?? (isObject(body) && typeof body.requestId === 'string' ? body.requestId : undefined);
  const retryAfterMs = parseRetryAfterMs(headers);
  const retryAfter = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
  const fromProvider = provider !== undefined && headers.get('x-byo-error-source') !== 'byo' && headers.has('x-byo-request-id');

  if (fromProvider) {
    const f = providerErrorFields(body);
    return new ProviderError(f.message ?? `${provider} returned HTTP ${status}.`, {
      statusCode: status,
      code: f.code,
      requestId,
      headers,
      body,
      provider,
      retryAfter,
    });
  }

  const f = byoErrorFields(body);
  let message = f.message ?? (typeof body === 'string' && body && body.length < 500 ? body : `BYO returned HTTP ${status}.`);
  if (f.issues?.length) message += ` (${f.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')})`;
  const init: ErrorInit = { statusCode: status, code: f.code, requestId, headers, body };
  if (status === 400 || status === 413 || status === 415) return new ValidationError(message, { ...init, issues: f.issues });
  if (status === 422) return new UnprocessableEntityError(message, init);
  if (status === 401) return new AuthenticationError(message, init);
  if (status === 403) return new PermissionDeniedError(message, init);
  if (status === 404) return new NotFoundError(message, init);
  if (status === 409) return new ConflictError(message, init);
  if (status === 429) return new RateLimitError(message, { ...init, retryAfter });
  if (status >= 500) return new InternalServerError(message, init);
  return new BYOKError(message, init);
}

interface ErrorFields {
  code: string | undefined;
  message: string | undefined;
  issues?: { path?: string; message: string }[] | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * BYO's error body is `{ code, message, requestId }` on the REST API; on the proxy it is in
 * the provider's error shape with BYO's code inside (`error.code`; Google: `error.details[].reason`).
 */
export function byoErrorFields(body: unknown): ErrorFields {
  if (!isObject(body)) return { code: undefined, message: undefined };
  if (str(body.code) && str(body.message)) {
    const issues = Array.isArray(body.issues) ? (body.issues as { path?: string; message: string }[]) : undefined;
    return { code: str(body.code), message: str(body.message), issues };
  }
  const err = isObject(body.error) ? body.error : undefined;
  if (!err) return { code: str(body.code), message: str(body.message) };
  // Google's shape has a numeric `code`; BYO's code is the `reason` of an ErrorInfo detail.
  const details = Array.isArray(err.details) ? err.details.filter(isObject) : [];
  const reason = details.map((d) => str(d.reason)).find((r) => r !== undefined);
  return { code: str(err.code) ?? reason ?? str(body.code), message: str(err.message) };
}

/** OpenAI `{error:{message,type,code}}`, Anthropic `{type:'error',error:{type,message}}`, Google `{error:{code,message,status}}`. */
export function providerErrorFields(body: unknown): ErrorFields {
  if (Array.isArray(body) && body.length > 0) return providerErrorFields(body[0]);
  if (!isObject(body)) return { code: undefined, message: typeof body === 'string' && body.length < 500 ? str(body) : undefined };
  const err = isObject(body.error) ? body.error : body;
  return { code: str(err.code) ?? str(err.type) ?? str(err.status), message: str(err.message) ?? str(body.message) };
}
