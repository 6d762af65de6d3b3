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

export interface ProviderDefinition<Id extends string = string> {
  id: Id;
  /** Display name. */
  name: string;
  /** The base URL the provider's official SDK (or the OpenAI SDK, for compatible ones) uses. */
  defaultBaseUrl: string;
  /** The environment variable that moves the base (tests, private endpoints). */
  baseUrlEnv: string;
  wire: WireFormat;
  /** How the stored key is sent upstream. */
  authHeader: string;
  authValue: (key: string) => string;
  validation: ValidationProbe;
  /** Whether a stored `providerConfig.baseUrl` may replace the base (self-hosted OpenAI-compatible servers). */
  allowsCustomBase: boolean;
  credentials: readonly CredentialField[];
  /** The provider's API docs. */
  docsUrl: string;
}
