import type { Project } from '../db/schema.js';
import { BYOError } from '../errors.js';
import type { Mode } from '../db/schema.js';
import { isSandboxKey, type ProviderSpec } from '../providers/catalog.js';
import type { KeySettings } from '../providers/types.js';
import type { Services } from '../services.js';
import { checkBaseUrl } from './base-url.js';

/** Who is connecting, for the rule on where a publishable key may point a key. */
export interface ConfigAccess {
  publishable: boolean;
  /** A connect token with `allowBaseUrl`. */
  tokenAllowsBaseUrl: boolean;
  project: Pick<Project, 'allowed_base_url_hosts'>;
}

/** A base URL a connect asks for through `providerConfig`, checked against its provider's rules. */
export interface RequestedBase {
  /** `providerConfig.<name>`, for messages. */
  what: string;
  raw: string;
  url: URL;
  /** On one of the provider's own hosts (Azure's `*.openai.azure.com`). */
  providerHost: boolean;
}

/**
 * Checks a connect's `providerConfig` against what its provider declares (registry `config`),
 * before anything is spent on the connect (a connect token): unknown fields, missing required
 * ones, and URLs off the provider's hosts are refused. Returns the base URL it sets, or null.
 */
export function requestedBase(
  services: Pick<Services, 'guard'>,
  spec: ProviderSpec,
  config: Readonly<Record<string, string | undefined>> | undefined,
): RequestedBase | null {
  const given = Object.entries(config ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  for (const [name] of given) {
    if (!spec.config[name])
      throw new BYOError(
        'invalid_base_url',
        name === 'baseUrl'
          ? `providerConfig.baseUrl is only for OpenAI-compatible servers (provider "openai").`
          : `Provider "${spec.name}" takes no providerConfig.${name} (GET /v1/providers lists each provider's fields).`,
      );
  }
  for (const [name, field] of Object.entries(spec.config)) {
    if (field.required && !given.some(([n]) => n === name)) {
      const message = `providerConfig.${name} is required for provider "${spec.name}".`;
      throw new BYOError('validation_failed', message, { issues: [{ path: `providerConfig.${name}`, message }] });
    }
  }
  const [name, raw] = given.find(([n]) => spec.config[n]?.kind !== 'setting') ?? [];
  const field = name === undefined ? undefined : spec.config[name];
  if (name === undefined || raw === undefined || !field) return null;
  const what = `providerConfig.${name}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BYOError('invalid_base_url', `${what} is not an absolute URL.`);
  }
  const host = url.hostname.toLowerCase();
  const providerHost = field.hostSuffixes?.some((suffix) => host.endsWith(suffix) && host.length > suffix.length) ?? false;
  // Where it may point; whether it may use plain http, and which addresses it may reach, is
  // base-url.ts's one rule for every customer URL (checkRequestedBase).
  if (field.hostSuffixes && !providerHost && !services.guard.hostAllowed(host, url.port || (url.protocol === 'https:' ? '443' : '80')))
    throw new BYOError('invalid_base_url', `${what} must be on ${field.hostSuffixes.map((x) => `*${x}`).join(', ')} (${host} is not).`);
  if (field.originOnly && (url.pathname !== '/' || raw.includes('?') || raw.includes('#')))
    throw new BYOError('invalid_base_url', `${what} is the address only, like ${url.origin} (no path or query).`);
  return { what, raw, url, providerHost };
}

/**
 * The requested base, canonical and SSRF-checked (domain/base-url.ts). A host of the provider's
 * own is where that provider is, so a publishable key may name it; any other host needs the
 * project's leave (a connect token with allowBaseUrl, or the project's allowedBaseUrlHosts).
 */
export async function checkRequestedBase(
  services: Pick<Services, 'guard' | 'config'>,
  base: RequestedBase,
  access: ConfigAccess,
): Promise<string> {
  if (access.publishable && !base.providerHost && !access.tokenAllowsBaseUrl && !hostAllowedByProject(access.project, base.url)) {
    throw new BYOError(
      'invalid_base_url',
      `A publishable key may only set a base URL on the project's allowed hosts (${base.url.host.toLowerCase()} is not). Use a connect token with allowBaseUrl, or add the host to the project's allowedBaseUrlHosts.`,
    );
  }
  return checkBaseUrl(services, base.raw, base.what);
}

/**
 * Whether the project's `allowedBaseUrlHosts` allow this URL for a publishable key. An entry
 * with a port (`llm.example.com:8443`) allows that port only; one without allows the scheme's
 * default port only (443, or 80 for http), so a listed host's other services stay out of reach.
 */
export function hostAllowedByProject(project: Pick<Project, 'allowed_base_url_hosts'>, url: URL): boolean {
  const host = url.hostname.toLowerCase();
  const defaultPort = url.protocol === 'http:' ? '80' : '443';
  const port = url.port || defaultPort;
  return project.allowed_base_url_hosts.some((raw) => {
    const [, name = '', entryPort = defaultPort] = /^(.*?)(?::(\d{1,5}))?$/.exec(raw.toLowerCase()) ?? [];
    if (entryPort !== port) return false;
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name;
  });
}

/**
 * A signed provider's credential (Bedrock, Vertex), checked by its signer: the settings to
 * store with the key (region, location, project; never secrets) and the key's hint. Null for
 * a provider whose key is sent as is. A test-mode magic key is taken whatever its shape.
 */
export function prepareCredential(
  services: Pick<Services, 'guard' | 'config'>,
  spec: ProviderSpec,
  mode: Mode,
  providerKey: string,
  config: Readonly<Record<string, string | undefined>> | undefined,
): { settings: KeySettings; hint: string } | null {
  if (!spec.signer) return null;
  const settings: Record<string, string> = {};
  for (const [name, field] of Object.entries(spec.config)) {
    const v = config?.[name];
    if (field.kind === 'setting' && v !== undefined) settings[name] = v;
  }
  return spec.signer.prepare(providerKey, settings, {
    hostAllowed: (host, port) => services.guard.hostAllowed(host, port),
    sandboxKey: mode === 'test' && services.config.BYO_SANDBOX && isSandboxKey(providerKey),
  });
}
