import type { ProviderDefinition } from '../types.js';

export const anthropic = {
  id: 'anthropic',
  name: 'Anthropic',
  defaultBaseUrl: 'https://api.anthropic.com',
  baseUrlEnv: 'BYO_ANTHROPIC_BASE_URL',
  wire: 'anthropic',
  authHeader: 'x-api-key',
  authValue: (key) => key,
  validation: { method: 'GET', path: '/v1/models' },
  credentials: [
    {
      field: 'providerKey',
      label: 'API key',
      secret: true,
      required: true,
      placeholder: 'sk-ant-...',
      helpUrl: 'https://console.anthropic.com/settings/keys',
    },
  ],
  docsUrl: 'https://docs.anthropic.com/en/api',
} as const satisfies ProviderDefinition<'anthropic'>;
