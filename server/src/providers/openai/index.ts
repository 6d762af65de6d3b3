import { BaseUrlSchema } from '../../schemas/urls.js';
import type { ProviderDefinition } from '../types.js';

export const openai = {
  id: 'openai',
  name: 'OpenAI',
  defaultBaseUrl: 'https://api.openai.com/v1',
  baseUrlEnv: 'BYO_OPENAI_BASE_URL',
  wire: 'openai',
  authHeader: 'authorization',
  authValue: (key) => `Bearer ${key}`,
  validation: { method: 'GET', path: '/models' },
  // A self-hosted OpenAI-compatible server (vLLM, Ollama, ...): any public host, SSRF-checked.
  config: { baseUrl: { schema: BaseUrlSchema, required: false } },
  credentials: [
    {
      field: 'providerKey',
      label: 'API key',
      secret: true,
      required: true,
      placeholder: 'sk-...',
      helpUrl: 'https://platform.openai.com/api-keys',
    },
    {
      field: 'providerConfig.baseUrl',
      label: 'Base URL (OpenAI-compatible server)',
      secret: false,
      required: false,
      placeholder: 'https://api.openai.com/v1',
    },
  ],
  docsUrl: 'https://platform.openai.com/docs/api-reference',
} as const satisfies ProviderDefinition<'openai'>;
