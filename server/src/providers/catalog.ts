import type { Config } from '../config.js';
import type { ProviderName } from '../db/schema.js';

/** What BYO needs to know of each provider: where it lives and how it takes a key. */
export interface ProviderSpec {
  name: ProviderName;
  /** The base URL the provider's official SDK uses (the proxy maps `/v1/proxy/{name}` onto it). */
  defaultBase: string;
  /** Header that carries the provider key, and how its value is built. */
  authHeader: string;
  authValue: (key: string) => string;
  /** Path (relative to the base) that validation calls with GET. */
  validatePath: string;
  /** Whether a stored custom base URL may replace the base (OpenAI-compatible servers). */
  allowsCustomBase: boolean;
}

export const PROVIDER_NAMES: readonly ProviderName[] = ['openai', 'anthropic', 'google'];

export function providerSpecs(
  config: Pick<Config, 'BYO_OPENAI_BASE_URL' | 'BYO_ANTHROPIC_BASE_URL' | 'BYO_GOOGLE_BASE_URL'>,
): Record<ProviderName, ProviderSpec> {
  const strip = (u: string) => u.replace(/\/+$/, '');
  return {
    openai: {
      name: 'openai',
      defaultBase: strip(config.BYO_OPENAI_BASE_URL),
      authHeader: 'authorization',
      authValue: (k) => `Bearer ${k}`,
      validatePath: '/models',
      allowsCustomBase: true,
    },
    anthropic: {
      name: 'anthropic',
      defaultBase: strip(config.BYO_ANTHROPIC_BASE_URL),
      authHeader: 'x-api-key',
      authValue: (k) => k,
      validatePath: '/v1/models',
      allowsCustomBase: false,
    },
    google: {
      name: 'google',
      defaultBase: strip(config.BYO_GOOGLE_BASE_URL),
      authHeader: 'x-goog-api-key',
      authValue: (k) => k,
      validatePath: '/v1beta/models',
      allowsCustomBase: false,
    },
  };
}

/** The sandbox's magic keys (test mode only). */
export const SANDBOX_VALID_KEY = 'sk-byo-test-valid';
export const SANDBOX_INVALID_KEY = 'sk-byo-test-invalid';
export function isSandboxKey(key: string): boolean {
  return key === SANDBOX_VALID_KEY || key === SANDBOX_INVALID_KEY;
}
