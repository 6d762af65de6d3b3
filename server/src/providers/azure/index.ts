import { AzureEndpointSchema } from '../../schemas/urls.js';
import type { ProviderDefinition } from '../types.js';
import { azureInvalidKey, azureSandbox } from './sandbox.js';

const KEYS_AND_ENDPOINT = 'https://learn.microsoft.com/azure/ai-services/openai/chatgpt-quickstart#retrieve-key-and-endpoint';

/**
 * Azure OpenAI: each key comes with its resource's endpoint (`providerConfig.endpoint`), where
 * `/v1/proxy/azure/{path}` goes, the key sent as `api-key`. The deployment and api-version are
 * per call (in the path and query the AzureOpenAI client builds), never stored.
 */
export const azure = {
  id: 'azure',
  name: 'Azure OpenAI',
  // No default base: every key names its resource. The catalog shows the shape.
  defaultBaseUrl: 'https://<resource>.openai.azure.com',
  wire: 'openai',
  authHeader: 'api-key',
  authValue: (key) => key,
  // The data-plane model list of the resource: refused without its key, bills nothing.
  validation: { method: 'GET', path: '/openai/models?api-version=2024-10-21' },
  config: {
    endpoint: {
      schema: AzureEndpointSchema,
      required: true,
      hostSuffixes: ['.openai.azure.com', '.cognitiveservices.azure.com', '.services.ai.azure.com'],
      originOnly: true,
    },
  },
  credentials: [
    {
      field: 'providerConfig.endpoint',
      label: 'Endpoint',
      secret: false,
      required: true,
      placeholder: 'https://<resource>.openai.azure.com',
      helpUrl: KEYS_AND_ENDPOINT,
    },
    { field: 'providerKey', label: 'API key', secret: true, required: true, placeholder: 'KEY 1 or KEY 2', helpUrl: KEYS_AND_ENDPOINT },
  ],
  docsUrl: 'https://learn.microsoft.com/azure/ai-services/openai/reference',
  sandbox: { respond: azureSandbox, invalidKey: azureInvalidKey },
} as const satisfies ProviderDefinition<'azure'>;
