import { z } from 'zod';
import { ProviderSchema, RefIdSchema, TimestampSchema } from './common.js';

export const CreateConnectTokenInputSchema = z
  .strictObject({
    refId: RefIdSchema,
    providers: z.array(ProviderSchema).min(1).max(3).optional().meta({ description: 'Limit the token to these providers.' }),
    allowBaseUrl: z.boolean().default(false).meta({ description: 'Let the browser set `providerConfig.baseUrl` (still SSRF-checked).' }),
    expiresInSeconds: z.number().int().min(30).max(900).default(600),
  })
  .meta({ examples: [{ refId: 'customer_123', providers: ['openai'], expiresInSeconds: 600 }] });

export const ConnectTokenOutputSchema = z.object({
  token: z.string().meta({ description: 'Single-use. Pass it to the browser; it expires after `expiresAt`.', example: 'byo_ct_...' }),
  refId: z.string(),
  providers: z.array(ProviderSchema).nullable(),
  allowBaseUrl: z.boolean(),
  expiresAt: TimestampSchema,
});
