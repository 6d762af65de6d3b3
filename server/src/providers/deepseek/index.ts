import { openAICompatible } from '../openai-compatible.js';

export const deepseek = openAICompatible({
  id: 'deepseek',
  name: 'DeepSeek',
  // DeepSeek's docs give the base without a version; /v1 is an alias of it.
  baseUrl: 'https://api.deepseek.com',
  keyPlaceholder: 'sk-...',
  keysUrl: 'https://platform.deepseek.com/api_keys',
  docsUrl: 'https://api-docs.deepseek.com/',
});
