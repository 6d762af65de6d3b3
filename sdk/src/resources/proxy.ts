import { BYOKError, ProviderError } from '../core/errors.js';
import type { HTTPRequest, RequestOptions, Transport } from '../core/request.js';
import { type ParsedEvent, Stream } from '../core/streaming.js';
import type { ServerSentEvent } from '../core/sse.js';
import type { Provider } from './keys.js';

export interface ProviderClientOptions {
  /** Your identifier for the customer whose stored key pays for the calls. */
  refId: string;
  /** Headers sent with every call of this client (e.g. `anthropic-beta`). */
  headers?: Record<string, string>;
}

/**
 * What all provider clients share: the proxy base URL and headers (for the provider's own
 * SDK), and requests through BYO's proxy authenticated the way that provider's SDK does.
 */
export abstract class ProviderClient {
  /** The provider's name in BYO. */
  abstract readonly provider: Provider;
  /** Customer this client acts for (`X-BYO-Ref-Id`). */
  readonly refId: string;
  /** Your BYO secret key, to pass as the official SDK's `apiKey`. */
  declare readonly apiKey: string;
  /** Extra headers for the official SDK: `X-BYO-Ref-Id` (plus any you gave). */
  readonly headers: Record<string, string>;

  constructor(
    protected readonly _transport: Transport,
    apiKey: string,
    options: ProviderClientOptions,
  ) {
    if (!options || typeof options.refId !== 'string' || options.refId === '')
      throw new BYOKError('Pass the customer\'s refId: byok.openai({ refId: "customer_123" }).', { code: 'missing_ref_id' });
    this.refId = options.refId;
    Object.defineProperty(this, 'apiKey', { value: apiKey, enumerable: false });
    this.headers = { ...(options.headers ?? {}), 'X-BYO-Ref-Id': options.refId };
  }

  /** The proxy URL standing in for the provider's base URL, e.g. `http://localhost:3000/v1/proxy/openai`. */
  get baseURL(): string {
    return `${this._transport.config.baseURL.replace(/\/+$/, '')}${this.proxyPath}`;
  }

  /** The path on the BYO server that stands in for the provider's base URL. */
  protected get proxyPath(): string {
    return `/v1/proxy/${this.provider}`;
  }

  /** How this provider's SDK sends its API key. */
  protected abstract authHeaders(): Record<string, string>;

  protected request(method: HTTPRequest['method'], path: string, extra: Partial<HTTPRequest> = {}): HTTPRequest {
    return {
      method,
      path: `${this.proxyPath}${path}`,
      provider: this.provider,
      ...extra,
      headers: { ...this.headers, ...this.authHeaders(), ...(extra.headers ?? {}) },
    };
  }

  protected _get<T>(path: string, query: HTTPRequest['query'], options?: RequestOptions): Promise<T> {
    return this._transport.json<T>(this.request('GET', path, { query }), options);
  }

  protected _post<T>(path: string, body: unknown, options?: RequestOptions, query?: HTTPRequest['query']): Promise<T> {
    return this._transport.json<T>(this.request('POST', path, { body, query }), options);
  }

  protected async _stream<T>(
    path: string,
    body: unknown,
    parse: (ev: ServerSentEvent) => ParsedEvent<T>,
    options?: RequestOptions,
    query?: HTTPRequest['query'],
  ): Promise<Stream<T>> {
    const raw = await this._transport.stream(this.request('POST', path, { body, query }), options);
    return new Stream(raw, parse);
  }

  /** An error event inside a stream (the HTTP status was already 200). */
  protected streamError(payload: unknown, fallback: string): ProviderError {
    type Fields = { message?: unknown; type?: unknown; code?: unknown; status?: unknown };
    const p = (payload ?? {}) as Fields & { error?: Fields };
    const e: Fields = p.error ?? p;
    const message = typeof e.message === 'string' ? e.message : fallback;
    const code = [e.code, e.type, e.status].find((v) => typeof v === 'string') as string | undefined;
    return new ProviderError(message, { provider: this.provider, code, body: payload });
  }
}
