import type { Config } from '../config.js';
import type { ProviderListOutput } from '../schemas/providers.js';
import { PROVIDERS, type ProviderId } from './registry.js';

const DEFINITIONS: readonly ProviderDefinition<ProviderId>[] = PROVIDERS;
import type { ConfigField, ProviderDefinition, ValidationProbe, WireFormat } from './types.js';

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
  /** The `providerConfig` fields a connect may set (a custom base URL, Azure's endpoint). */
  config: Readonly<Record<string, ConfigField>>;
}

export function providerSpecs(config: Config): Record<ProviderId, ProviderSpec> {
  const bases = config as unknown as Record<string, string>;
  return Object.fromEntries(
    DEFINITIONS.map((p) => [
      p.id,
      {
        name: p.id,
        wire: p.wire,
        defaultBase: ((p.baseUrlEnv && bases[p.baseUrlEnv]) || p.defaultBaseUrl).replace(/\/+$/, ''),
        authHeader: p.authHeader,
        authValue: p.authValue,
        validation: p.validation,
        config: p.config ?? {},
      } satisfies ProviderSpec,
    ]),
  ) as Record<ProviderId, ProviderSpec>;
}

/** The public catalog (`GET /v1/providers`): the registry, with the bases this server uses. */
export function providerCatalog(specs: Record<ProviderId, ProviderSpec>): ProviderListOutput['data'] {
  return DEFINITIONS.map((p) => ({
    id: p.id,
    name: p.name,
    baseUrl: specs[p.id].defaultBase,
    proxyPath: `/v1/proxy/${p.id}`,
    wireFormat: p.wire,
    customBaseUrl: p.config?.baseUrl !== undefined,
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
