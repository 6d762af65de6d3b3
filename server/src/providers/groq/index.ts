import { openAICompatible } from '../openai-compatible.js';

export const groq = openAICompatible({
  id: 'groq',
  name: 'Groq',
  baseUrl: 'https://api.groq.com/openai/v1',
  keyPlaceholder: 'gsk_...',
  keysUrl: 'https://console.groq.com/keys',
  docsUrl: 'https://console.groq.com/docs/openai',
});
