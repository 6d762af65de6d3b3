import type { Config } from '../config.js';
import type { ProviderListOutput } from '../schemas/providers.js';
import { PROVIDERS, type ProviderId } from './registry.js';

const DEFINITIONS: readonly ProviderDefinition<ProviderId>[] = PROVIDERS;
import type { ConfigField, ProviderDefinition, UpstreamSigner, ValidationProbe, WireFormat } from './types.js';

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
  /** The `providerConfig` fields a connect may set (a custom base URL, Azure's endpoint, a region). */
  config: Readonly<Record<string, ConfigField>>;
  /** A credential signed or exchanged per call (Bedrock, Vertex); its base comes from the key's settings. */
  signer: UpstreamSigner | null;
  /** `BYO_<ID>_BASE_URL` when the operator set it: a signed provider's calls all go there (tests, private endpoints). */
  configuredBase: string | null;
  rejectsKey: (status: number, headers: Readonly<Record<string, string | string[] | undefined>>) => boolean;
}

const rejectsOn401or403 = (status: number) => status === 401 || status === 403;

export function providerSpecs(config: Config): Record<ProviderId, ProviderSpec> {
  const bases = config as unknown as Record<string, string>;
  return Object.fromEntries(
    DEFINITIONS.map((p) => {
      const configured = p.baseUrlEnv ? (bases[p.baseUrlEnv]?.replace(/\/+$/, '') ?? null) : null;
      const spec: ProviderSpec = {
        name: p.id,
        wire: p.wire,
        defaultBase: configured ?? p.defaultBaseUrl.replace(/\/+$/, ''),
        authHeader: p.authHeader,
        authValue: p.authValue,
        validation: p.validation,
        config: p.config ?? {},
        signer: p.signer ?? null,
        configuredBase: configured,
        rejectsKey: p.rejectsKey ?? rejectsOn401or403,
      };
      return [p.id, spec];
    }),
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
