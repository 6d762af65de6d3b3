import type { Config } from '../config.js';
import type { ProviderListOutput } from '../schemas/providers.js';
import { PROVIDERS, type ProviderId } from './registry.js';
import type { ValidationProbe, WireFormat } from './types.js';

/** A provider as this server runs it: its registry entry with the base the config gives it. */
export interface ProviderSpec {
  name: ProviderId;
  wire: WireFormat;
  /** The base URL the provider's official SDK uses (the proxy maps `/v1/proxy/{name}` onto it), or `BYO_<ID>_BASE_URL`. */
  defaultBase: string;
  /** Header that carries the provider key, and how its value is built. */
  authHeader: string;
  authValue: (key: string) => string;
  validation: ValidationProbe;
  /** Whether a stored custom base URL may replace the base (OpenAI-compatible servers). */
  allowsCustomBase: boolean;
}

export function providerSpecs(config: Config): Record<ProviderId, ProviderSpec> {
  const bases = config as unknown as Record<string, string>;
  return Object.fromEntries(
    PROVIDERS.map((p) => [
      p.id,
      {
        name: p.id,
        wire: p.wire,
        defaultBase: (bases[p.baseUrlEnv] ?? p.defaultBaseUrl).replace(/\/+$/, ''),
        authHeader: p.authHeader,
        authValue: p.authValue,
        validation: p.validation,
        allowsCustomBase: p.allowsCustomBase,
      } satisfies ProviderSpec,
    ]),
  ) as Record<ProviderId, ProviderSpec>;
}

/** The public catalog (`GET /v1/providers`): the registry, with the bases this server uses. */
export function providerCatalog(specs: Record<ProviderId, ProviderSpec>): ProviderListOutput['data'] {
  return PROVIDERS.map((p) => ({
    id: p.id,
    name: p.name,
    baseUrl: specs[p.id].defaultBase,
    proxyPath: `/v1/proxy/${p.id}`,
    wireFormat: p.wire,
    customBaseUrl: p.allowsCustomBase,
    credentials: p.credentials.map((c) => ({ ...c })),
    docsUrl: p.docsUrl,
  }));
}

/** The sandbox's magic keys (test mode only). */
export const SANDBOX_VALID_KEY = 'sk-byo-test-valid';
export const SANDBOX_INVALID_KEY = 'sk-byo-test-invalid';
export function isSandboxKey(key: string): boolean {
  return key === SANDBOX_VALID_KEY || key === SANDBOX_INVALID_KEY;
}
