import type { ProviderDefinition } from '../types.js';

export const google = {
  id: 'google',
  name: 'Google Gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  baseUrlEnv: 'BYO_GOOGLE_BASE_URL',
  wire: 'google',
  authHeader: 'x-goog-api-key',
  authValue: (key) => key,
  validation: { method: 'GET', path: '/v1beta/models' },
  credentials: [
    {
      field: 'providerKey',
      label: 'API key',
      secret: true,
      required: true,
      placeholder: 'AIza...',
      helpUrl: 'https://aistudio.google.com/app/apikey',
    },
  ],
  docsUrl: 'https://ai.google.dev/api',
} as const satisfies ProviderDefinition<'google'>;
