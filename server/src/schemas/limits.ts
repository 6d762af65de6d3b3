import { z } from 'zod';
import { ProviderSchema, RefIdSchema, TimestampSchema } from './common.js';

export const LIMIT_METRICS = ['requests', 'tokens', 'cost_usd'] as const;
export const LIMIT_WINDOWS = ['minute', 'hour', 'day', 'month'] as const;
/** Limits per set: each is one counter to lock per call. */
export const MAX_LIMITS = 10;

const LimitFields = {
  metric: z
    .enum(LIMIT_METRICS)
    .meta({ description: '`requests` (calls), `tokens` (input + output) or `cost_usd` (at the project’s prices)' }),
  window: z.enum(LIMIT_WINDOWS).meta({
    description:
      'minute and hour: fixed windows on the UTC clock (12:00:00 to 12:00:59...); day and month: UTC calendar days and months. Each resets at its end.',
  }),
  max: z
    .number()
    .positive('max must be above 0')
    .max(1e12)
    .meta({ description: 'The most a window may use (a whole number for requests and tokens)', example: 1000 }),
  warnAt: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .meta({ description: 'Fraction of `max` at which `limit.warning` is sent, once per window (default 0.8)', example: 0.8 }),
};
const wholeForCounts: [(l: { metric: string; max: number }) => boolean, { message: string; path: string[] }] = [
  (l) => l.metric === 'cost_usd' || Number.isInteger(l.max),
  { message: 'max must be a whole number for requests and tokens', path: ['max'] },
];

export const SpendLimitSchema = z
  .strictObject({
    ...LimitFields,
    provider: ProviderSchema.optional().meta({ description: 'Only calls to this provider count; absent: every provider' }),
  })
  .refine(...wholeForCounts);
export type SpendLimit = z.infer<typeof SpendLimitSchema>;

export const SpendLimitsSchema = z
  .array(SpendLimitSchema)
  .max(MAX_LIMITS, `at most ${MAX_LIMITS} limits`)
  .refine(
    (ls) => new Set(ls.map((l) => `${l.metric}|${l.window}|${l.provider ?? ''}`)).size === ls.length,
    'two limits have the same metric, window and provider',
  );

/**
 * The key owner's cap: limits the customer sets on their own key when connecting it ("at most
 * $50 a month through this app"). It counts the calls this key pays for, so it has no `provider`.
 */
export const OwnerLimitSchema = z.strictObject(LimitFields).refine(...wholeForCounts);
export type OwnerLimit = z.infer<typeof OwnerLimitSchema>;

export const OwnerLimitsSchema = z
  .array(OwnerLimitSchema)
  .max(MAX_LIMITS, `at most ${MAX_LIMITS} limits`)
  .refine((ls) => new Set(ls.map((l) => `${l.metric}|${l.window}`)).size === ls.length, 'two limits have the same metric and window')
  .meta({
    description:
      "The key owner's cap, on top of the app's limits: the calls this key pays for stop at it. Set by whoever connects the key; the secret key may lower it (PUT /v1/keys/{provider}/{refId}/limits), never raise or remove it.",
    example: [{ metric: 'cost_usd', window: 'month', max: 50 }],
  });

export const LimitStateSchema = z.object({
  metric: z.enum(LIMIT_METRICS),
  window: z.enum(LIMIT_WINDOWS),
  max: z.number(),
  provider: ProviderSchema.nullable(),
  warnAt: z.number(),
  used: z.number().meta({ description: 'Used in the current window (tokens and cost include in-flight reservations)' }),
  remaining: z.number(),
  resetsAt: TimestampSchema.meta({ description: 'When the current window ends' }),
});
export type LimitState = z.infer<typeof LimitStateSchema>;

export const LimitsOutputSchema = z.object({
  refId: z.string().nullable().meta({ description: 'The customer; null for the project default' }),
  source: z
    .enum(['customer', 'default', 'none'])
    .meta({ description: 'Where the limits in force come from: the customer’s own, the project default, or none' }),
  limits: z.array(LimitStateSchema),
});

export const CustomerLimitsRefSchema = z.strictObject({ refId: RefIdSchema });
export const SetCustomerLimitsInputSchema = z.strictObject({ refId: RefIdSchema, limits: SpendLimitsSchema });
export const SetDefaultLimitsInputSchema = z.strictObject({ limits: SpendLimitsSchema });
