import { openAICompatible } from '../openai-compatible.js';

export const cerebras = openAICompatible({
  id: 'cerebras',
  name: 'Cerebras',
  baseUrl: 'https://api.cerebras.ai/v1',
  keyPlaceholder: 'csk-...',
  keysUrl: 'https://cloud.cerebras.ai',
  docsUrl: 'https://inference-docs.cerebras.ai/api-reference',
});
