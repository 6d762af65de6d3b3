import { openAICompatible } from '../openai-compatible.js';

export const together = openAICompatible({
  id: 'together',
  name: 'Together AI',
  baseUrl: 'https://api.together.xyz/v1',
  keyPlaceholder: 'Your Together API key',
  keysUrl: 'https://api.together.ai/settings/api-keys',
  docsUrl: 'https://docs.together.ai/reference',
});
