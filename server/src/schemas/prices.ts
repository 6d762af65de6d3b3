import { z } from 'zod';
import { ProviderSchema, TimestampSchema } from './common.js';

/**
 * USD per million tokens. Bounded: a negative, infinite or absurd price (the most expensive
 * list price is a few hundred dollars per million) is refused with `validation_failed` when
 * set, so no stored price can make a cost (or a cost limit) meaningless.
 */
export const MAX_PRICE = 10_000;
const Usd = z
  .number()
  .min(0, 'a price is at least 0')
  .max(MAX_PRICE, `a price is at most ${MAX_PRICE} USD per million tokens`)
  .meta({ description: 'USD per million tokens', example: 2.5 });

export const ModelIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7E]+$/, 'model must be 1-200 printable characters without spaces')
  .meta({ description: 'A model id as the provider reports it (URL-encode a `/` in a path).', example: 'gpt-4o' });

export const PriceSchema = z.strictObject({
  input: Usd.meta({ description: 'USD per million input tokens (not read from or written to a cache)' }),
  output: Usd.meta({ description: 'USD per million output tokens' }),
  cachedInput: Usd.nullable()
    .optional()
    .meta({ description: 'USD per million input tokens read from the prompt cache; absent or null: billed as `input`' }),
  cacheWrite: Usd.nullable()
    .optional()
    .meta({ description: 'USD per million input tokens written to the prompt cache; absent or null: billed as `input`' }),
});
export type PriceInput = z.infer<typeof PriceSchema>;

export const PriceEntrySchema = z.object({
  provider: ProviderSchema,
  model: z.string(),
  input: z.number(),
  output: z.number(),
  cachedInput: z.number().nullable(),
  cacheWrite: z.number().nullable(),
  source: z.enum(['table', 'override']).meta({ description: '`table`: the built-in price; `override`: this project’s' }),
  updatedAt: TimestampSchema.nullable().meta({ description: 'When the override was set (null for table prices)' }),
});
export type PriceEntry = z.infer<typeof PriceEntrySchema>;

export const ListPricesInputSchema = z.strictObject({
  provider: ProviderSchema.optional(),
  model: z
    .string()
    .max(200)
    .meta({ description: 'Resolve this model id (a dated id resolves to its base model)', example: 'gpt-4o-2024-08-06' })
    .optional(),
});

export const ListPricesOutputSchema = z.object({
  asOf: z.string().meta({ description: 'When the built-in table was last checked against the providers’ pages' }),
  sources: z.record(z.string(), z.string()).meta({ description: 'Each provider’s pricing page the table was taken from' }),
  data: z
    .array(PriceEntrySchema)
    .meta({ description: 'Overrides first, then the table; with `model`, the one price it resolves to (or none)' }),
});

export const SetPriceInputSchema = PriceSchema.extend({ provider: ProviderSchema, model: ModelIdSchema });
export const PriceRefInputSchema = z.strictObject({ provider: ProviderSchema, model: ModelIdSchema });
export const DeletedPriceSchema = z.object({ provider: ProviderSchema, model: z.string(), deleted: z.boolean() });
