import { z } from 'zod';

/**
 * URL fields of `providerConfig`: their shape only (an absolute http(s) URL without credentials
 * or fragment). Whether plain http is allowed and which hosts and addresses a URL may name is
 * one rule in one place, domain/base-url.ts (and, for a provider's own hosts, the provider's
 * `config` in the registry). Apart from common.ts, which imports the provider registry:
 * provider modules import these, so this module must not.
 */

function isHttpUrl(v: string, opts: { pathAllowed: boolean }): boolean {
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
    if (u.username || u.password || u.hash) return false;
    return opts.pathAllowed || (u.pathname === '/' && !v.includes('?') && !v.includes('#'));
  } catch {
    return false;
  }
}

export const BaseUrlSchema = z
  .string()
  .max(2048)
  .refine((v) => isHttpUrl(v, { pathAllowed: true }), 'baseUrl must be an absolute http(s) URL without credentials or fragment')
  .meta({
    description: 'Base URL of an OpenAI-compatible server, exactly as its SDK would use it.',
    example: 'https://openrouter.ai/api/v1',
  });

export const AzureEndpointSchema = z
  .string()
  .max(2048)
  .refine(
    (v) => isHttpUrl(v, { pathAllowed: false }),
    'endpoint must be the resource address only, like https://<resource>.openai.azure.com (no path, query, credentials or fragment)',
  )
  .meta({
    description:
      'Azure OpenAI only: the endpoint of the resource, from its "Keys and Endpoint" page in the Azure portal. Stored with the key (a host name, not a secret; `baseUrl` in the key metadata).',
    example: 'https://my-resource.openai.azure.com',
  });
