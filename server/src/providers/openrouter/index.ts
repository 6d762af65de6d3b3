import { openAICompatible } from '../openai-compatible.js';

export const openrouter = openAICompatible({
  id: 'openrouter',
  name: 'OpenRouter',
  baseUrl: 'https://openrouter.ai/api/v1',
  keyPlaceholder: 'sk-or-v1-...',
  keysUrl: 'https://openrouter.ai/settings/keys',
  docsUrl: 'https://openrouter.ai/docs/api-reference/overview',
  // OpenRouter's model list answers without a key; /key describes the key it is called with.
  validation: { method: 'GET', path: '/key' },
});
