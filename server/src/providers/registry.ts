import { anthropic } from './anthropic/index.js';
import { azure } from './azure/index.js';
import { bedrock } from './bedrock/index.js';
import { cerebras } from './cerebras/index.js';
import { deepseek } from './deepseek/index.js';
import { fireworks } from './fireworks/index.js';
import { google } from './google/index.js';
import { groq } from './groq/index.js';
import { mistral } from './mistral/index.js';
import { openai } from './openai/index.js';
import { openrouter } from './openrouter/index.js';
import { perplexity } from './perplexity/index.js';
import { together } from './together/index.js';
import { vertex } from './vertex/index.js';
import type { ProviderDefinition } from './types.js';
import { xai } from './xai/index.js';

/**
 * Every provider BYO speaks, in catalog order. The one list: the zod enum, the config's
 * `BYO_<ID>_BASE_URL` variables, the proxy routes, the catalog endpoint and the docs tables
 * are derived from it. Adding a provider is adding its module here (docs/adding-a-provider.md).
 */
export const PROVIDERS = [
  openai,
  anthropic,
  google,
  azure,
  bedrock,
  vertex,
  mistral,
  groq,
  xai,
  deepseek,
  openrouter,
  together,
  fireworks,
  cerebras,
  perplexity,
] as const;

export type ProviderId = (typeof PROVIDERS)[number]['id'];

export const PROVIDER_IDS = PROVIDERS.map((p) => p.id) as unknown as readonly [ProviderId, ...ProviderId[]];

const BY_ID: ReadonlyMap<string, ProviderDefinition<ProviderId>> = new Map(
  PROVIDERS.map((p) => [p.id, p as ProviderDefinition<ProviderId>]),
);

export function providerById(id: string): ProviderDefinition<ProviderId> | undefined {
  return BY_ID.get(id);
}

export function isProviderId(id: string): id is ProviderId {
  return BY_ID.has(id);
}
