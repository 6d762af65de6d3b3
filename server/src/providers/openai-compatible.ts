import type { ProviderDefinition, ValidationProbe } from './types.js';

interface CompatibleSpec<Id extends string> {
  id: Id;
  name: string;
  /** The base URL the provider's docs give for the OpenAI SDK, version prefix included. */
  baseUrl: string;
  keyPlaceholder: string;
  keysUrl: string;
  docsUrl: string;
  /** Default: `GET /models`, which these providers answer only with a valid key. */
  validation?: ValidationProbe;
}

/** A provider that speaks OpenAI's API with a bearer key: everything but its data is OpenAI's. */
export function openAICompatible<const Id extends string>(
  spec: CompatibleSpec<Id>,
): ProviderDefinition<Id> & { baseUrlEnv: `BYO_${Uppercase<Id>}_BASE_URL` } {
  return {
    id: spec.id,
    name: spec.name,
    defaultBaseUrl: spec.baseUrl,
    baseUrlEnv: `BYO_${spec.id.toUpperCase() as Uppercase<Id>}_BASE_URL`,
    wire: 'openai',
    authHeader: 'authorization',
    authValue: (key) => `Bearer ${key}`,
    validation: spec.validation ?? { method: 'GET', path: '/models' },
    credentials: [
      { field: 'providerKey', label: 'API key', secret: true, required: true, placeholder: spec.keyPlaceholder, helpUrl: spec.keysUrl },
    ],
    docsUrl: spec.docsUrl,
  };
}
