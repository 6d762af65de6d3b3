import { openAICompatible } from '../openai-compatible.js';

export const fireworks = openAICompatible({
  id: 'fireworks',
  name: 'Fireworks AI',
  baseUrl: 'https://api.fireworks.ai/inference/v1',
  keyPlaceholder: 'fw_...',
  keysUrl: 'https://fireworks.ai/account/api-keys',
  docsUrl: 'https://docs.fireworks.ai/api-reference',
});
