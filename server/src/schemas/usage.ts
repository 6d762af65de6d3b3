import { z } from 'zod';
import { CursorSchema, ProviderSchema, RefIdSchema } from './common.js';

const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a UTC day as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'not a calendar day');

export const UsageQueryInputSchema = z.strictObject({
  from: DaySchema.meta({
    description: 'First UTC day to include (YYYY-MM-DD). Default: 29 days before `to`.',
    example: '2026-01-01',
  }).optional(),
  to: DaySchema.meta({ description: 'Last UTC day to include (YYYY-MM-DD). Default: today.', example: '2026-01-31' }).optional(),
  refId: RefIdSchema.optional(),
  provider: ProviderSchema.optional(),
  model: z
    .string()
    .min(1)
    .max(200)
    .meta({ description: 'Only this model, as the provider reported it.', example: 'gpt-4o-mini' })
    .optional(),
  keyId: z
    .string()
    .regex(/^key_[A-Za-z0-9]{1,64}$/, 'expected a stored key id (key_...)')
    .meta({
      description: 'Only the calls this stored key paid for (`id` of `GET /v1/keys/{provider}/{refId}`, the `x-byo-key-id` of an answer).',
      example: 'key_3KfT8mWq9ZrV2nLp5YcH1a',
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  cursor: CursorSchema,
});
export type UsageQueryInput = z.infer<typeof UsageQueryInputSchema>;

const Count = z.number().int().min(0);

export const UsageRowSchema = z.object({
  day: z.string().meta({ description: 'UTC day (YYYY-MM-DD)', example: '2026-01-15' }),
  refId: z.string(),
  provider: ProviderSchema,
  keyId: z.string().nullable().meta({
    description:
      'The stored key that paid for these calls (`x-byo-key-id`); it keeps its id when replaced. Null for calls BYO answered before a key was chosen.',
    example: 'key_3KfT8mWq9ZrV2nLp5YcH1a',
  }),
  model: z.string().nullable().meta({ description: 'The model the provider reported (null when it reported none).' }),
  requests: Count.meta({ description: 'Proxied calls' }),
  errors: Count.meta({ description: 'Calls answered with HTTP 400 or above (by the provider or by BYO on its way there)' }),
  inputTokens: Count,
  outputTokens: Count,
  totalTokens: Count,
  costUsd: z.number().nullable().meta({
    description:
      'USD at the project’s prices (overrides, else the built-in table; GET /v1/prices). Null when none of these calls had a price (an unknown or fine-tuned model), never $0 for them.',
    example: 0.0123,
  }),
  unpricedRequests: Count.meta({ description: 'Calls not in `costUsd`: their model has no price (or they predate costing)' }),
  avgLatencyMs: Count.meta({ description: 'Mean time from request to the last response byte' }),
});
export type UsageRow = z.infer<typeof UsageRowSchema>;

export const UsageOutputSchema = z.object({
  from: z.string().meta({ description: 'First UTC day included' }),
  to: z.string().meta({ description: 'Last UTC day included' }),
  data: z.array(UsageRowSchema).meta({ description: 'One row per day, refId, provider, stored key and model; newest day first' }),
  totals: z.object({
    requests: Count,
    errors: Count,
    inputTokens: Count,
    outputTokens: Count,
    totalTokens: Count,
    costUsd: z.number().meta({ description: 'USD of the priced calls' }),
    unpricedRequests: Count.meta({ description: 'Calls whose model has no price, so not in `costUsd`' }),
  }),
  nextCursor: z.string().nullable(),
});
export type UsageOutput = z.infer<typeof UsageOutputSchema>;
