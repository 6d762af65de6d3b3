import { openAICompatible } from '../openai-compatible.js';

export const xai = openAICompatible({
  id: 'xai',
  name: 'xAI',
  baseUrl: 'https://api.x.ai/v1',
  keyPlaceholder: 'xai-...',
  keysUrl: 'https://console.x.ai',
  docsUrl: 'https://docs.x.ai/docs/api-reference',
});
