import type { operations } from './generated/openapi.js';
import { PROVIDERS } from './generated/providers.js';

/**
 * The browser connect client: sends a customer's provider key straight to the BYO server,
 * authenticated with the app's publishable key. No dependencies; the types come from the
 * server's OpenAPI document (`pnpm gen`).
 */

type ConnectOperation = operations['keys-connect'];
type ConnectBody = ConnectOperation['requestBody']['content']['application/json'];

export type Provider = ConnectBody['provider'];
/** What `connect()` sends. `providerConfig.baseUrl` is for OpenAI-compatible servers (`provider: 'openai'`). */
export type ConnectParams = ConnectBody;
/** What `connect()` resolves to. `keyHint` (like `sk-...abcd`) is all that ever comes back of the key. */
export type ConnectResult = ConnectOperation['responses'][200]['content']['application/json'];

export interface ConnectOptions {
  /** The BYO server, e.g. `https://byo.example.com`. Defaults to `http://localhost:3000`. */
  baseURL?: string;
  /** The same as `baseURL`, in the spelling of `providerConfig.baseUrl`; `baseURL` wins when both are set. */
  baseUrl?: string;
  /** The project's publishable key (`byo_pk_live_...` or `byo_pk_test_...`). Never a secret key. */
  publishableKey: string;
  /** A `fetch` implementation (tests); defaults to the global one. */
  fetch?: typeof fetch;
}

/**
 * What `createConnect()` returns: the `connect` function itself, as published
 * (`const connect = createConnect(...); await connect({...})`). It also carries `.connect`
 * (the same function) and `.baseURL`, so `createConnect(...).connect({...})` works too.
 */
export interface ConnectFunction {
  (params: ConnectParams): Promise<ConnectResult>;
  /** The same function, for the object form `byo.connect({...})`. */
  readonly connect: ConnectFunction;
  /** The resolved BYO server URL, without a trailing slash. */
  readonly baseURL: string;
}

/** The name this type had before `createConnect` returned a function; the same type. */
export type ConnectClient = ConnectFunction;

/** The error body every BYO endpoint answers with. */
export interface ErrorBody {
  code: string;
  message: string;
  requestId?: string;
}

/**
 * Every failure of `connect()`. `statusCode` is the HTTP status, or `0` when no response was
 * read: a mistake caught before sending (`code` says which), or a network/CORS failure.
 */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export const DEFAULT_BASE_URL = 'http://localhost:3000';

/** Every provider id (generated from the server's registry), checked against the generated type. */
const PROVIDER_SET: ReadonlySet<string> = new Set<Provider>(PROVIDERS satisfies readonly Provider[]);
/** The server's rule: 1-256 of these characters, and not only dots (`.` and `..` are path segments). */
const REF_ID = /^(?!\.+$)[A-Za-z0-9_.:@+-]{1,256}$/;

export function isProvider(value: unknown): value is Provider {
  return typeof value === 'string' && PROVIDER_SET.has(value);
}

/** Resolves `baseURL` (relative URLs against the page) and drops trailing slashes. */
export function resolveBaseURL(baseURL: string | undefined): string {
  try {
    const url = new URL(baseURL ?? DEFAULT_BASE_URL, globalThis.location?.href);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href.replace(/\/+$/, '');
  } catch {}
  throw new ConnectError(`baseURL "${baseURL}" is not an http(s) URL.`, 0, 'invalid_config');
}

/** Throws on a missing or secret key: a `byo_sk_` key must never reach a browser. */
export function checkPublishableKey(key: unknown): string {
  const pk = typeof key === 'string' ? key.trim() : '';
  if (pk.startsWith('byo_sk_'))
    throw new ConnectError(
      'A secret key (byo_sk_...) must never be used in a browser. Use the publishable key (byo_pk_...), and roll this secret key now.',
      0,
      'secret_key_in_browser',
    );
  if (!pk.startsWith('byo_pk_'))
    throw new ConnectError('publishableKey is missing or is not a publishable key (byo_pk_...).', 0, 'invalid_config');
  return pk;
}

const invalid = (message: string) => Promise.reject(new ConnectError(message, 0, 'validation_failed'));

/**
 * `const connect = createConnect({ baseURL, publishableKey }); await connect({ provider, refId, providerKey })`.
 * Configuration mistakes throw here, synchronously; everything else rejects from `connect()`.
 */
export function createConnect(options: ConnectOptions): ConnectFunction {
  const pk = checkPublishableKey(options?.publishableKey);
  const baseURL = resolveBaseURL(options.baseURL ?? options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  async function connect(params: ConnectParams): Promise<ConnectResult> {
    const { provider, refId, providerConfig, connectToken, limits } = params ?? ({} as ConnectParams);
    const providerKey = typeof params?.providerKey === 'string' ? params.providerKey.trim() : '';
    if (!isProvider(provider))
      return invalid(
        `Unknown provider "${provider}": use one of ${PROVIDERS.join(', ')} (a self-hosted OpenAI-compatible server is openai with providerConfig.baseUrl).`,
      );
    if (typeof refId !== 'string' || !REF_ID.test(refId))
      return invalid('refId must be 1-256 characters of A-Z a-z 0-9 _ . : @ + -, and not only dots.');
    if (!providerKey) return invalid('providerKey is empty.');
    if (providerKey.startsWith('byo_')) return invalid(`providerKey is a BYO key, not a ${provider} key.`);

    const body: ConnectParams = { provider, refId, providerKey };
    if (providerConfig) body.providerConfig = providerConfig;
    if (connectToken) body.connectToken = connectToken;
    // The key owner's cap (`[{ metric: 'cost_usd', window: 'month', max: 50 }]`); the server checks it.
    if (limits) body.limits = limits;
    let res: Response;
    try {
      res = await doFetch(`${baseURL}/v1/keys/connect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pk}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
      });
    } catch {
      const origin = globalThis.location?.origin;
      throw new ConnectError(
        `Could not reach the BYO server at ${baseURL}, or it refused the request: check that the server is running, the publishable key is valid, and this page's origin (${origin}) is in the project's allowed origins.`,
        0,
        'network_error',
      );
    }
    const data = (await res.json().catch(() => null)) as (ConnectResult & ErrorBody) | null;
    if (!res.ok || !data)
      throw new ConnectError(
        data?.message ?? `The BYO server answered ${res.status} without a JSON body.`,
        res.status,
        data?.code ?? 'bad_response',
        data?.requestId,
      );
    return { id: data.id, provider: data.provider, refId: data.refId, status: data.status, updated: data.updated, keyHint: data.keyHint };
  }

  // Read-only, non-enumerable: the function is the client, these are views of it.
  return Object.defineProperties(connect as ConnectFunction, {
    connect: { value: connect },
    baseURL: { value: baseURL },
  });
}
