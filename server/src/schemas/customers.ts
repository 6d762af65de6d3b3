import { z } from 'zod';
import { CursorSchema, KeyStatusSchema, ProviderSchema, RefIdSchema, TimestampSchema } from './common.js';
import { KeyMetadataSchema } from './keys.js';
import { LIMIT_METRICS, LIMIT_WINDOWS, LimitStateSchema, LimitsOutputSchema } from './limits.js';

export const ListCustomersInputSchema = z.strictObject({
  prefix: z
    .string()
    .max(256)
    .regex(/^[A-Za-z0-9_.:@+-]*$/, 'prefix must be characters a refId may contain')
    .meta({ description: 'Only refIds starting with this (case-sensitive)', example: 'cust_' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: CursorSchema,
});

const MonthUsageSchema = z.object({
  month: z.string().meta({ description: 'The UTC month (YYYY-MM)', example: '2026-01' }),
  requests: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number().meta({ description: 'USD of the priced calls' }),
  unpricedRequests: z.number().int().meta({ description: 'Calls whose model has no price (not in costUsd)' }),
});

export const LimitUseSchema = z
  .object({
    source: z.enum(['customer', 'default']).meta({ description: 'The customer’s own limits, or the project default' }),
    metric: z.enum(LIMIT_METRICS),
    window: z.enum(LIMIT_WINDOWS),
    provider: ProviderSchema.nullable().meta({ description: 'The provider the limit counts (null: every provider)' }),
    max: z.number().meta({ example: 50 }),
    used: z.number().meta({ description: 'Used in the current window', example: 31 }),
    fraction: z.number().meta({ description: '`used / max` (1 or more: calls are refused until the window resets)', example: 0.62 }),
  })
  .nullable()
  .meta({
    description:
      'Of the app’s limits in force for this customer (its own or the project default; the owners’ caps on its keys are in GET /v1/customers/{refId}), the one nearest its max in its current window (the full list: GET /v1/customers/{refId}/limits); null when none apply',
  });
export type LimitUse = NonNullable<z.infer<typeof LimitUseSchema>>;

export const CustomerSummarySchema = z.object({
  refId: z.string(),
  keys: z
    .array(z.object({ provider: ProviderSchema, status: KeyStatusSchema }))
    .meta({ description: 'Its stored keys’ providers and statuses' }),
  lastUsedAt: TimestampSchema.nullable().meta({ description: 'Its last proxied call (null: none)' }),
  thisMonth: MonthUsageSchema,
  limitUse: LimitUseSchema,
});

export const ListCustomersOutputSchema = z.object({
  data: z.array(CustomerSummarySchema).meta({ description: 'Customers (refIds with a stored key) in refId byte order' }),
  nextCursor: z.string().nullable(),
});

export const CustomerRefInputSchema = z.strictObject({ refId: RefIdSchema });

export const CustomerSchema = z.object({
  refId: z.string(),
  keys: z.array(KeyMetadataSchema),
  lastUsedAt: TimestampSchema.nullable(),
  limits: LimitsOutputSchema.meta({ description: 'The limits in force with their live use (as GET /v1/customers/{refId}/limits)' }),
  ownerCaps: z.array(z.object({ provider: ProviderSchema, keyId: z.string(), limits: z.array(LimitStateSchema) })).meta({
    description:
      "The caps the customer set on their own keys when connecting them (a key's `limits`), each with its live use; these apply on top of `limits`. Empty: no key has one.",
  }),
  thisMonth: MonthUsageSchema.extend({
    byModel: z
      .array(
        z.object({
          provider: ProviderSchema,
          model: z.string().nullable(),
          requests: z.number().int(),
          totalTokens: z.number().int(),
          costUsd: z.number().nullable(),
        }),
      )
      .meta({ description: 'This month by provider and model; costUsd null when that model is unpriced' }),
  }),
});
