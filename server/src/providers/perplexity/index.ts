import { openAICompatible } from '../openai-compatible.js';

export const perplexity = openAICompatible({
  id: 'perplexity',
  name: 'Perplexity',
  baseUrl: 'https://api.perplexity.ai',
  keyPlaceholder: 'pplx-...',
  keysUrl: 'https://www.perplexity.ai/settings/api',
  docsUrl: 'https://docs.perplexity.ai/api-reference',
  // No model list: a chat call with no messages is refused (400) after the key is checked, and bills nothing.
  validation: { method: 'POST', path: '/chat/completions', body: '{"model":"sonar","messages":[]}', acceptedStatuses: [400] },
});
