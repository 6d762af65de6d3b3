import { BYOKError } from './core/errors.js';
import { type Fetch, Transport } from './core/request.js';
import { isBrowserPage, readEnv } from './internal/env.js';
import { AnthropicClient } from './resources/anthropic/index.js';
import { ConnectTokens } from './resources/connect-tokens.js';
import { GoogleClient } from './resources/google/index.js';
import { Keys } from './resources/keys.js';
import { Customers } from './resources/customers.js';
import { Limits } from './resources/limits.js';
import { Prices } from './resources/prices.js';
import { Providers } from './resources/providers.js';
import { UsageResource } from './resources/usage.js';
import { OpenAIClient, type OpenAICompatibleProvider } from './resources/openai/index.js';
import type { ProviderClientOptions } from './resources/proxy.js';
import { type Webhooks, WebhooksResource, webhooks } from './resources/webhooks.js';

export const DEFAULT_BASE_URL = 'http://localhost:3000';
export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;

export interface ClientOptions {
  /** Your BYO secret key `byo_sk_...`. Default: the `BYO_SECRET_KEY` environment variable. */
  apiKey?: string | undefined;
  /** Your BYO server. Default: `BYO_BASE_URL`, else `http://localhost:3000`. */
  baseURL?: string | undefined;
  /** The same as `baseURL`, in the spelling of `providerConfig.baseUrl`; `baseURL` wins when both are set. */
  baseUrl?: string | undefined;
  /** Milliseconds a request may take (until the headers, for streams). Default 600000 (10 min). */
  timeout?: number | undefined;
  /** Retries of connection errors, timeouts and BYO's 408/429/5xx. Default 2. */
  maxRetries?: number | undefined;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: Fetch | undefined;
  /** Secret keys do not belong in web pages; set this only if you know the page is private. */
  dangerouslyAllowBrowser?: boolean | undefined;
}

/**
 * The BYO client: `new BYOK({ apiKey })`, then `byok.openai({ refId })` & co. to call AI
 * providers with a customer's stored key, `byok.keys` and `byok.connectTokens` to manage keys,
 * `byok.webhooks` to verify deliveries.
 */
export class BYOK {
  /** Webhook verification, usable without a client: `BYOK.webhooks.verify(...)`. */
  static readonly webhooks: Webhooks = webhooks;

  declare readonly apiKey: string;
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;

  readonly keys: Keys;
  readonly providers: Providers;
  readonly connectTokens: ConnectTokens;
  /** Prices (USD per million tokens) and this project's overrides. */
  readonly prices: Prices;
  /** Spend limits per customer and the project default. */
  readonly limits: Limits;
  /** Customers (refIds): keys, last use, usage and cost this month, limits. */
  readonly customers: Customers;
  /** Usage and cost of proxied calls. */
  readonly usage: UsageResource;
  readonly webhooks: WebhooksResource;

  private readonly transport: Transport;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? readEnv('BYO_SECRET_KEY');
    if (!apiKey)
      throw new BYOKError(
        'Missing BYO secret key: pass new BYOK({ apiKey: "byo_sk_..." }) or set the BYO_SECRET_KEY environment variable.',
        { code: 'missing_api_key' },
      );
    if (apiKey.startsWith('byo_pk_'))
      throw new BYOKError(
        'This is a publishable key (byo_pk_...): it belongs in the browser, for byo-connect. The backend SDK needs the secret key (byo_sk_...).',
        { code: 'publishable_key' },
      );
    if (!apiKey.startsWith('byo_sk_'))
      throw new BYOKError('apiKey is not a BYO secret key: expected "byo_sk_live_..." or "byo_sk_test_...".', { code: 'invalid_api_key' });
    if (isBrowserPage() && !options.dangerouslyAllowBrowser)
      throw new BYOKError(
        'The BYO secret key must not be used in a web page, where anyone can read it. Call BYO from your backend; in the browser use byo-connect with the publishable key.',
        { code: 'browser_not_allowed' },
      );
    const baseURL = (options.baseURL ?? options.baseUrl ?? readEnv('BYO_BASE_URL') ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    try {
      new URL(baseURL);
    } catch {
      throw new BYOKError(`baseURL "${baseURL}" is not an absolute URL, e.g. "https://byo.example.com".`, { code: 'invalid_base_url' });
    }
    const fetchImpl = options.fetch ?? (globalThis as { fetch?: Fetch }).fetch;
    if (!fetchImpl) throw new BYOKError('No fetch in this runtime: pass new BYOK({ fetch }).', { code: 'missing_fetch' });

    // Not enumerable, so console.log(byok) does not print the secret.
    Object.defineProperty(this, 'apiKey', { value: apiKey, enumerable: false });
    this.baseURL = baseURL;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.transport = new Transport({
      apiKey,
      baseURL,
      timeout: this.timeout,
      maxRetries: this.maxRetries,
      fetch: options.fetch ?? ((input, init) => fetchImpl(input, init)),
    });
    this.keys = new Keys(this.transport);
    this.providers = new Providers(this.transport);
    this.connectTokens = new ConnectTokens(this.transport);
    this.prices = new Prices(this.transport);
    this.limits = new Limits(this.transport);
    this.customers = new Customers(this.transport);
    this.usage = new UsageResource(this.transport);
    this.webhooks = new WebhooksResource(this.transport);
  }

  /** OpenAI (or an OpenAI-compatible server the customer connected) with `refId`'s key. */
  openai(options: ProviderClientOptions): OpenAIClient {
    return new OpenAIClient(this.transport, this.apiKey, options);
  }

  /**
   * An OpenAI-compatible cloud (`groq`, `mistral`, `openrouter`, ...) with `refId`'s key for it:
   * the same resources as `byok.openai()`, through `/v1/proxy/<provider>`.
   */
  openaiCompatible(provider: OpenAICompatibleProvider, options: ProviderClientOptions): OpenAIClient {
    return new OpenAIClient(this.transport, this.apiKey, options, provider);
  }

  /**
   * Azure OpenAI with `refId`'s key (its endpoint is stored with it): the same resources as
   * `byok.openai()`, through Azure's v1 API (`{endpoint}/openai/v1`), so `model` is the deployment name.
   */
  azure(options: ProviderClientOptions): OpenAIClient {
    return new OpenAIClient(this.transport, this.apiKey, options, 'azure');
  }

  /** Anthropic with `refId`'s key. */
  anthropic(options: ProviderClientOptions): AnthropicClient {
    return new AnthropicClient(this.transport, this.apiKey, options);
  }

  /** Google Gemini with `refId`'s key. */
  google(options: ProviderClientOptions): GoogleClient {
    return new GoogleClient(this.transport, this.apiKey, options);
  }

  /** Keeps the secret key out of logs: `console.log(byok)` shows the key's prefix only. */
  toJSON(): Record<string, unknown> {
    return { baseURL: this.baseURL, apiKey: `${this.apiKey.slice(0, 12)}...`, timeout: this.timeout, maxRetries: this.maxRetries };
  }
}
