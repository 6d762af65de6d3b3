import { type ModelPrice, PRICE_TABLE } from './table.js';

/** A price found for a model, and where: a project's override or the built-in table. */
export interface ResolvedPrice {
  price: ModelPrice;
  /** The id the price is listed under (the base model of a dated id). */
  model: string;
  source: 'override' | 'table';
}

/** Project overrides, keyed by `overrideKey(provider, model)`. */
export type PriceOverrides = ReadonlyMap<string, ModelPrice>;
export const overrideKey = (provider: string, model: string): string => `${provider}\u0000${model}`;

/**
 * Version and date suffixes, stripped one at a time from the end of an id: each step is a
 * candidate, most specific first. Only versions and dates, never words: `gpt-4o-mini` never
 * becomes `gpt-4o`.
 */
const SUFFIXES: readonly RegExp[] = [
  /:\d+$/, // Bedrock `...-v1:0`
  /-v\d+$/, // Bedrock `...-v1`, `-v2`
  /@\d{8}$/, // Vertex Claude `claude-3-5-sonnet-v2@20241022`
  /@[a-z0-9-]+$/, // Vertex `@latest`, `@001`
  /-\d{4}-\d{2}-\d{2}$/, // OpenAI `gpt-4o-2024-08-06`
  /-\d{8}$/, // Anthropic `claude-3-5-sonnet-20241022`
  /-(?:preview|exp)(?:-\d{2}-\d{2}|-\d{4}|-\d{2}-\d{4})?$/, // Gemini `gemini-2.5-flash-preview-05-20`
  /-latest$/, // `claude-3-5-sonnet-latest`, `mistral-large-latest`
  /-\d{3}$/, // Gemini `gemini-1.5-flash-002`
  /-\d{4}$/, // OpenAI `gpt-4-0613`, Mistral `mistral-large-2411`
];
/** Bedrock cross-region inference profiles prefix the model id with a geography. */
const BEDROCK_GEO = /^(?:us|eu|apac|us-gov|global|jp|au|ca)\./;
/** OpenRouter vendors whose models are priced from a BYO provider's entries. */
const OPENROUTER_VENDORS: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google',
  mistralai: 'mistral',
  'x-ai': 'xai',
  deepseek: 'deepseek',
};

/** The ids to look up for `model`, most specific first; empty for a model that is never priced from the table (fine-tuned). */
export function candidates(provider: string, model: string): string[] {
  let id = model.trim();
  // Fine-tuned models (`ft:gpt-4o-mini:org::id`, `accounts/x/models/my-ft`) cost what their
  // provider bills for that tune: unpriced unless an override names them exactly.
  if (id.startsWith('ft:')) return [id];
  if (id.startsWith('models/')) id = id.slice('models/'.length); // Gemini reports `models/gemini-...` in places
  if (provider === 'bedrock' || provider === 'vertex') {
    // An ARN or a path (`arn:...:inference-profile/us.anthropic...`, `publishers/google/models/gemini-...`): the last segment.
    id = decodeURIComponentSafe(id);
    id = id.slice(id.lastIndexOf('/') + 1);
  }
  const out = [model];
  if (id !== model) out.push(id);
  if (provider === 'bedrock' && BEDROCK_GEO.test(id)) {
    id = id.replace(BEDROCK_GEO, '');
    out.push(id);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const re of SUFFIXES) {
      const next = id.replace(re, '');
      if (next !== id && next.length > 0) {
        id = next;
        out.push(id);
        changed = true;
        break;
      }
    }
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function fromTable(provider: string, id: string): ModelPrice | undefined {
  const entry = PRICE_TABLE[provider];
  if (!entry) return undefined;
  return entry.models[id] ?? (entry.inherits ? PRICE_TABLE[entry.inherits]?.models[id] : undefined);
}

/**
 * The price of `model` served by `provider`: a project override of the id or of any of its
 * candidates (so an override of `gpt-4o` covers `gpt-4o-2024-08-06`), else the table's entry
 * for the most specific candidate. Null: unpriced (cost `null`, never $0).
 */
export function resolvePrice(provider: string, model: string | null, overrides?: PriceOverrides): ResolvedPrice | null {
  if (!model) return null;
  const ids = candidates(provider, model);
  if (overrides && overrides.size > 0)
    for (const id of ids) {
      const price = overrides.get(overrideKey(provider, id));
      if (price) return { price, model: id, source: 'override' };
    }
  if (ids[0]?.startsWith('ft:')) return null;
  for (const id of ids) {
    const price = fromTable(provider, id);
    if (price) return { price, model: id, source: 'table' };
  }
  if (provider === 'openrouter') return viaOpenRouterVendor(model, overrides);
  return null;
}

/** `anthropic/claude-3.5-sonnet` on OpenRouter: priced as Anthropic's `claude-3-5-sonnet`. */
function viaOpenRouterVendor(model: string, overrides?: PriceOverrides): ResolvedPrice | null {
  const slash = model.indexOf('/');
  if (slash <= 0) return null;
  const vendor = OPENROUTER_VENDORS[model.slice(0, slash)];
  if (!vendor) return null;
  let rest = model.slice(slash + 1);
  if (rest.includes(':')) return null; // `:free`, `:nitro` variants have their own prices
  if (vendor === 'anthropic') rest = rest.replace(/(\d)\.(\d)/g, '$1-$2');
  return resolvePrice(vendor, rest, overrides);
}
