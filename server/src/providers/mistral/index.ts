import { openAICompatible } from '../openai-compatible.js';

export const mistral = openAICompatible({
  id: 'mistral',
  name: 'Mistral AI',
  baseUrl: 'https://api.mistral.ai/v1',
  keyPlaceholder: 'Your Mistral API key',
  keysUrl: 'https://console.mistral.ai/api-keys',
  docsUrl: 'https://docs.mistral.ai/api/',
});
