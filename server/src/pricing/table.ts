/**
 * The built-in price table: list prices in USD per million tokens, shipped as
 * data and read offline (no fetch at start). Projects override or add entries through
 * `PUT /v1/prices/{provider}/{model}` (pricing/overrides.ts).
 *
 * Keys are base model ids; dated and versioned ids resolve to them (pricing/resolve.ts).
 * `cachedInput` is the price of prompt tokens read from the provider's prompt cache,
 * `cacheWrite` the price of tokens written to it where the provider bills writes (Anthropic,
 * and Claude on Bedrock and Vertex: the 5-minute cache). Where a provider has tiers by prompt
 * length (Gemini above 200k tokens), the table holds the first tier. Per-request fees
 * (Perplexity's search fees, web search tools) are not token prices and are not counted.
 *
 * Check a price against the provider's page before relying on it: prices change, and an
 * override is how an operator corrects one without a release.
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens not read from or written to a cache. */
  input: number;
  /** USD per million output (completion, reasoning) tokens. */
  output: number;
  /** USD per million prompt tokens read from the cache; absent: billed as `input`. */
  cachedInput?: number;
  /** USD per million prompt tokens written to the cache; absent: billed as `input`. */
  cacheWrite?: number;
}

export interface ProviderPrices {
  /** The provider's pricing page the entries were taken from. */
  source: string;
  models: Record<string, ModelPrice>;
  /** Ids served by another provider's models (Azure OpenAI deployments report OpenAI model ids). */
  inherits?: string;
}

/** When the table was last checked against the sources below. */
export const PRICES_AS_OF = '2025-08-15';

const p = (input: number, output: number, cachedInput?: number, cacheWrite?: number): ModelPrice => ({
  input,
  output,
  ...(cachedInput === undefined ? {} : { cachedInput }),
  ...(cacheWrite === undefined ? {} : { cacheWrite }),
});

/** Claude prices, shared by Anthropic, Bedrock and Vertex (5-minute cache writes are 1.25x input, reads 0.1x). */
const CLAUDE = {
  'claude-opus-4-1': p(15, 75, 1.5, 18.75),
  'claude-opus-4': p(15, 75, 1.5, 18.75),
  'claude-sonnet-4': p(3, 15, 0.3, 3.75),
  'claude-3-7-sonnet': p(3, 15, 0.3, 3.75),
  'claude-3-5-sonnet': p(3, 15, 0.3, 3.75),
  'claude-3-5-haiku': p(0.8, 4, 0.08, 1),
  'claude-3-opus': p(15, 75, 1.5, 18.75),
  'claude-3-haiku': p(0.25, 1.25, 0.03, 0.3),
} satisfies Record<string, ModelPrice>;

const GEMINI = {
  'gemini-2.5-pro': p(1.25, 10, 0.31),
  'gemini-2.5-flash': p(0.3, 2.5, 0.075),
  'gemini-2.5-flash-lite': p(0.1, 0.4, 0.025),
  'gemini-2.0-flash': p(0.1, 0.4, 0.025),
  'gemini-2.0-flash-lite': p(0.075, 0.3),
  'gemini-1.5-pro': p(1.25, 5, 0.3125),
  'gemini-1.5-flash': p(0.075, 0.3, 0.01875),
  'gemini-1.5-flash-8b': p(0.0375, 0.15, 0.01),
} satisfies Record<string, ModelPrice>;

/** Claude on Bedrock: `anthropic.` plus the Anthropic id (regional prefixes and versions are resolved away). */
const bedrockClaude = Object.fromEntries(Object.entries(CLAUDE).map(([id, price]) => [`anthropic.${id}`, price]));

export const PRICE_TABLE: Readonly<Record<string, ProviderPrices>> = {
  openai: {
    source: 'https://openai.com/api/pricing/',
    models: {
      'gpt-5': p(1.25, 10, 0.125),
      'gpt-5-mini': p(0.25, 2, 0.025),
      'gpt-5-nano': p(0.05, 0.4, 0.005),
      'gpt-4.1': p(2, 8, 0.5),
      'gpt-4.1-mini': p(0.4, 1.6, 0.1),
      'gpt-4.1-nano': p(0.1, 0.4, 0.025),
      'gpt-4o': p(2.5, 10, 1.25),
      'gpt-4o-mini': p(0.15, 0.6, 0.075),
      'chatgpt-4o-latest': p(5, 15),
      o1: p(15, 60, 7.5),
      'o1-mini': p(1.1, 4.4, 0.55),
      o3: p(2, 8, 0.5),
      'o3-mini': p(1.1, 4.4, 0.55),
      'o4-mini': p(1.1, 4.4, 0.275),
      'gpt-4-turbo': p(10, 30),
      'gpt-4-1106-preview': p(10, 30),
      'gpt-4-0125-preview': p(10, 30),
      'gpt-4': p(30, 60),
      'gpt-3.5-turbo': p(0.5, 1.5),
      'text-embedding-3-small': p(0.02, 0),
      'text-embedding-3-large': p(0.13, 0),
      'text-embedding-ada-002': p(0.1, 0),
    },
  },
  anthropic: { source: 'https://www.anthropic.com/pricing#api', models: CLAUDE },
  google: { source: 'https://ai.google.dev/gemini-api/docs/pricing', models: GEMINI },
  azure: { source: 'https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/', models: {}, inherits: 'openai' },
  mistral: {
    source: 'https://mistral.ai/pricing#api-pricing',
    models: {
      'mistral-large': p(2, 6),
      'mistral-medium': p(0.4, 2),
      'mistral-small': p(0.1, 0.3),
      'pixtral-large': p(2, 6),
      codestral: p(0.3, 0.9),
      'open-mistral-nemo': p(0.15, 0.15),
      'ministral-8b': p(0.1, 0.1),
      'ministral-3b': p(0.04, 0.04),
      'mistral-embed': p(0.1, 0),
    },
  },
  groq: {
    source: 'https://groq.com/pricing',
    models: {
      'llama-3.3-70b-versatile': p(0.59, 0.79),
      'llama-3.1-8b-instant': p(0.05, 0.08),
      'openai/gpt-oss-120b': p(0.15, 0.75),
      'openai/gpt-oss-20b': p(0.1, 0.5),
      'meta-llama/llama-4-scout-17b-16e-instruct': p(0.11, 0.34),
      'meta-llama/llama-4-maverick-17b-128e-instruct': p(0.2, 0.6),
      'qwen/qwen3-32b': p(0.29, 0.59),
      'moonshotai/kimi-k2-instruct': p(1, 3),
    },
  },
  xai: {
    source: 'https://docs.x.ai/docs/models',
    models: {
      'grok-4': p(3, 15, 0.75),
      'grok-3': p(3, 15, 0.75),
      'grok-3-mini': p(0.3, 0.5, 0.075),
      'grok-2': p(2, 10),
    },
  },
  deepseek: {
    source: 'https://api-docs.deepseek.com/quick_start/pricing',
    models: {
      'deepseek-chat': p(0.27, 1.1, 0.07),
      'deepseek-reasoner': p(0.55, 2.19, 0.14),
    },
  },
  openrouter: {
    // OpenRouter ids are `vendor/model`; resolve.ts prices them from the vendor's own entry
    // (OpenRouter passes provider prices through). Entries here win over that.
    source: 'https://openrouter.ai/models',
    models: {},
  },
  together: {
    source: 'https://www.together.ai/pricing',
    models: {
      'meta-llama/Llama-3.3-70B-Instruct-Turbo': p(0.88, 0.88),
      'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo': p(0.18, 0.18),
      'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo': p(0.88, 0.88),
      'meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo': p(3.5, 3.5),
      'deepseek-ai/DeepSeek-V3': p(1.25, 1.25),
      'deepseek-ai/DeepSeek-R1': p(3, 7),
      'Qwen/Qwen2.5-72B-Instruct-Turbo': p(1.2, 1.2),
    },
  },
  fireworks: {
    source: 'https://fireworks.ai/pricing',
    models: {
      'accounts/fireworks/models/llama-v3p3-70b-instruct': p(0.9, 0.9),
      'accounts/fireworks/models/llama-v3p1-8b-instruct': p(0.2, 0.2),
      'accounts/fireworks/models/llama-v3p1-405b-instruct': p(3, 3),
      'accounts/fireworks/models/deepseek-v3': p(0.9, 0.9),
      'accounts/fireworks/models/deepseek-r1': p(3, 8),
    },
  },
  cerebras: {
    source: 'https://www.cerebras.ai/pricing',
    models: {
      'llama3.1-8b': p(0.1, 0.1),
      'llama-3.3-70b': p(0.85, 1.2),
      'gpt-oss-120b': p(0.25, 0.69),
      'qwen-3-32b': p(0.4, 0.8),
    },
  },
  perplexity: {
    source: 'https://docs.perplexity.ai/getting-started/pricing',
    models: {
      sonar: p(1, 1),
      'sonar-pro': p(3, 15),
      'sonar-reasoning': p(1, 5),
      'sonar-reasoning-pro': p(2, 8),
      'sonar-deep-research': p(2, 8),
    },
  },
  bedrock: {
    // On-demand prices in us-east-1; other regions and provisioned throughput differ (override them).
    source: 'https://aws.amazon.com/bedrock/pricing/',
    models: {
      ...bedrockClaude,
      'amazon.nova-pro': p(0.8, 3.2, 0.2),
      'amazon.nova-lite': p(0.06, 0.24, 0.015),
      'amazon.nova-micro': p(0.035, 0.14, 0.00875),
      'meta.llama3-3-70b-instruct': p(0.72, 0.72),
      'meta.llama3-1-70b-instruct': p(0.72, 0.72),
      'meta.llama3-1-8b-instruct': p(0.22, 0.22),
      'mistral.mistral-large': p(2, 6),
      'cohere.command-r-plus': p(3, 15),
      'cohere.command-r': p(0.5, 1.5),
    },
  },
  vertex: {
    source: 'https://cloud.google.com/vertex-ai/generative-ai/pricing',
    models: { ...GEMINI, ...CLAUDE, 'claude-3-5-sonnet-v2': CLAUDE['claude-3-5-sonnet'] },
  },
};
