import type { z } from 'zod';
import type { SandboxOptions, SandboxRequest, SandboxResponse } from '../sandbox/types.js';

/**
 * What a provider module declares. Pure data and small pure functions: the public schemas,
 * the config, the proxy, validation, the sandbox and the docs are all derived from it.
 */

/** The wire format a provider speaks: decides the sandbox, error shapes and usage fields. */
export type WireFormat = 'openai' | 'anthropic' | 'google';

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
 * A `providerConfig.<name>` field a connect may (or must) set. Today every such field says where
 * the key's calls go: it is stored as the key's base URL (`base_url`, a host name, not a secret)
 * and checked with the SSRF rules of custom base URLs (domain/provider-config.ts).
 */
export interface ConfigField {
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
  /** A sandbox of its own, when its paths or its 401 differ from its wire format's (Azure's deployment paths). */
  sandbox?: {
    respond(req: SandboxRequest, opts?: SandboxOptions): SandboxResponse;
    invalidKey(): SandboxResponse;
  };
}
