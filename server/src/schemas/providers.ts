import { z } from 'zod';
import { ProviderSchema } from './common.js';

export const CredentialFieldSchema = z.object({
  field: z
    .string()
    .meta({ description: '`providerKey`, or `providerConfig.<name>`: where the value goes in a connect call.', example: 'providerKey' }),
  label: z.string(),
  secret: z.boolean().meta({ description: 'A secret: take it in a password input; it is never shown back.' }),
  required: z.boolean(),
  placeholder: z.string(),
  helpUrl: z.string().optional().meta({ description: 'Where the customer finds this value.' }),
});

export const ProviderEntrySchema = z.object({
  id: ProviderSchema,
  name: z.string().meta({ example: 'Groq' }),
  baseUrl: z.string().meta({
    description: 'Where this server sends the provider’s calls (the official SDK’s base, or the operator’s `BYO_<ID>_BASE_URL`).',
  }),
  proxyPath: z
    .string()
    .meta({ description: 'The proxy base for this provider, a drop-in `baseURL` for its SDK.', example: '/v1/proxy/groq' }),
  wireFormat: z.enum(['openai', 'anthropic', 'google', 'bedrock']).meta({ description: 'The API the provider speaks.' }),
  customBaseUrl: z
    .boolean()
    .meta({ description: 'Whether a connect may set `providerConfig.baseUrl` (self-hosted OpenAI-compatible servers).' }),
  credentials: z.array(CredentialFieldSchema),
  docsUrl: z.string(),
});

export const ProviderListOutputSchema = z.object({ data: z.array(ProviderEntrySchema) });
export type ProviderListOutput = z.infer<typeof ProviderListOutputSchema>;
