import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { AccessTokens } from './vertex/token.js';
import type { SandboxOptions, SandboxRequest, SandboxResponse } from '../sandbox/types.js';

/**
 * What a provider module declares. Pure data and small pure functions: the public schemas,
 * the config, the proxy, validation, the sandbox and the docs are all derived from it.
 */

/**
 * The wire format a provider speaks: decides the sandbox, error shapes and usage fields.
 * `bedrock`: AWS's JSON errors (`x-amzn-errortype`), event streams for streamed answers.
 */
export type WireFormat = 'openai' | 'anthropic' | 'google' | 'bedrock';

/** One field of a provider's credential, as `GET /v1/providers` lists it and the connect form renders it. */
export interface CredentialField {
  /** `providerKey`, or `providerConfig.<name>`. */
  field: 'providerKey' | `providerConfig.${string}`;
  label: string;
  /** A secret: a password input, never shown back. */
  secret: boolean;
  required: boolean;
  placeholder: string;
  /** Where the customer finds it. */
  helpUrl?: string;
}

/** The cheapest call that proves a key: no tokens billed. */
export interface ValidationProbe {
  method: 'GET' | 'POST';
  /** Relative to the provider base. */
  path: string;
  /** JSON body for a POST probe. */
  body?: string;
  /**
   * Statuses that mean the key was accepted. Default: any 2xx. A probe meant to be refused for
   * its body (a 400 after authentication passed) lists that status too.
   */
  acceptedStatuses?: readonly number[];
}

/**
 * A `providerConfig.<name>` field a connect may (or must) set. A `url` field says where the key's
 * calls go: it is stored as the key's base URL (`base_url`, a host name, not a secret) and
 * checked with the SSRF rules of custom base URLs (domain/provider-config.ts). A `setting` (a
 * region, a project id) is stored with the key in `provider_config`, in plaintext: never a secret.
 */
export interface ConfigField {
  /** Default `url`. */
  kind?: 'url' | 'setting';
  /** Its schema in the connect body (the OpenAPI document and generated clients show it). */
  schema: z.ZodType<string>;
  required: boolean;
  /**
   * Hosts it may name, as suffixes (`.openai.azure.com`: any subdomain of it), https only,
   * unless the operator allow-listed the host (BYO_ALLOWED_UPSTREAM_HOSTS). Absent: any public host.
   * A value on these hosts is the provider's own, so a publishable key may set it.
   */
  hostSuffixes?: readonly string[];
  /** The value is an origin (`https://host[:port]`): no path, query or fragment. */
  originOnly?: boolean;
}

export interface ProviderDefinition<Id extends string = string> {
  id: Id;
  /** Display name. */
  name: string;
  /**
   * The base URL the provider's official SDK (or the OpenAI SDK, for compatible ones) uses. For a
   * provider whose every key names its own base (Azure's endpoint), a template shown in the catalog.
   */
  defaultBaseUrl: string;
  /** The environment variable that moves the base (tests, private endpoints); none when each key has its own base. */
  baseUrlEnv?: string;
  wire: WireFormat;
  /** How the stored key is sent upstream. */
  authHeader: string;
  authValue: (key: string) => string;
  validation: ValidationProbe;
  /** The `providerConfig` fields a connect may set (none: it takes none). */
  config?: Readonly<Record<string, ConfigField>>;
  credentials: readonly CredentialField[];
  /** The provider's API docs. */
  docsUrl: string;
  /**
   * A credential BYO signs or exchanges on every call (Bedrock's SigV4, Vertex's service
   * account), instead of sending the stored key as `authHeader: authValue`.
   */
  signer?: UpstreamSigner;
  /**
   * Whether an upstream answer says the stored key itself was refused (the proxy then disables
   * it). Default: any 401 or 403. A provider whose 403 can be about the request (a model not
   * enabled, a missing permission) narrows it.
   */
  rejectsKey?: (status: number, headers: Readonly<Record<string, string | string[] | undefined>>) => boolean;
  /** A sandbox of its own, when its paths or its 401 differ from its wire format's (Azure's deployment paths). */
  sandbox?: {
    respond(req: SandboxRequest, opts?: SandboxOptions): SandboxResponse;
    invalidKey(): SandboxResponse;
  };
}

/** The stored settings of a key (`providerConfig` settings, after the connect checked them). */
export type KeySettings = Readonly<Record<string, string>>;

/** An upstream request as a signer sees it, before its credential is added. */
export interface UnsignedRequest {
  method: string;
  /** `https://host[:port]` the request goes to. */
  origin: string;
  /** Path and query, exactly as sent. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer | null;
}

/** What a signer may use: the process's dispatchers (a token exchange goes through them) and clock. */
export interface SignerDeps {
  trusted: Dispatcher;
  guarded: Dispatcher;
  /** Hosts the operator allowed (BYO_ALLOWED_UPSTREAM_HOSTS). */
  hostAllowed(hostname: string, port?: string): boolean;
  now(): number;
  /** Minted access tokens, per stored key version (providers/vertex/token.ts). */
  tokens: AccessTokens;
}

export interface PrepareContext extends Pick<SignerDeps, 'hostAllowed'> {
  /** A test-mode magic key (`sk-byo-test-valid`): the key's shape is not checked, its settings are. */
  sandboxKey: boolean;
}

/**
 * A credential that is signed or exchanged per call. Parsing, checking and signing live with
 * the provider (providers/bedrock, providers/vertex); the proxy and validation call these.
 */
export interface UpstreamSigner<Credential = unknown> {
  /**
   * Checks a connect's key and settings before anything is stored: a coded 400 (BYOError)
   * naming what is wrong. Returns the settings to store (defaults filled in) and the key hint.
   */
  prepare(key: string, settings: KeySettings, ctx: PrepareContext): { settings: KeySettings; hint: string };
  /** The credential, parsed once per stored key version (the proxy keeps it with the cached key). */
  /** `id` names the stored key version (its cache entries, a minted token, are keyed by it). */
  parse(key: string, settings: KeySettings, id: string): Credential;
  /** The upstream base of a key: its region's or location's host, or the operator's `BYO_<ID>_BASE_URL`. */
  base(settings: KeySettings, configured: string | null): string;
  /** Refuses (BYOError) a proxied path the key cannot serve (another project or location). */
  checkPath?(path: string, settings: KeySettings): void;
  /** The signature covers the body: the proxy reads it whole before sending. */
  needsBody: boolean;
  /** The headers that carry the credential for this request (`authorization`, `x-amz-date`, ...). */
  authorize(credential: Credential, req: UnsignedRequest, deps: SignerDeps): Promise<Record<string, string>>;
  /** The cheapest call that proves the credential (relative to `base()`), and how to read its answer. */
  probe(settings: KeySettings): ValidationProbe;
  classifyProbe?(status: number, headers: Readonly<Record<string, string | string[] | undefined>>): 'valid' | 'invalid' | 'unknown';
  /** Forgets what it cached for a credential (an upstream 401: a minted token may be stale). */
  forget?(credential: Credential, deps: SignerDeps): void;
}
