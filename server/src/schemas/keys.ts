import { z } from 'zod';
import { PROVIDERS } from '../providers/registry.js';
import {
  CursorSchema,
  KeyStatusSchema,
  LimitSchema,
  ProviderKeyInputSchema,
  ProviderSchema,
  RefIdSchema,
  TimestampSchema,
} from './common.js';
import { OwnerLimitsSchema } from './limits.js';

/**
 * Every `providerConfig` field some provider declares (registry `config`), each optional here:
 * which ones a provider takes or requires is checked when connecting (domain/provider-config.ts).
 */
export const ProviderConfigSchema = z
  .strictObject(
    Object.fromEntries(
      PROVIDERS.flatMap((p) => Object.entries(('config' in p ? p.config : undefined) ?? {})).map(([name, field]) => [
        name,
        field.schema.optional(),
      ]),
    ) as Record<string, z.ZodOptional<z.ZodType<string>>>,
  )
  .meta({
    description:
      "Provider settings stored with the key: `baseUrl` (provider `openai`, an OpenAI-compatible server), `endpoint` (provider `azure`, required). `GET /v1/providers` lists each provider's fields.",
  });

export const ConnectKeyInputSchema = z
  .strictObject({
    provider: ProviderSchema,
    refId: RefIdSchema,
    providerKey: ProviderKeyInputSchema,
    providerConfig: ProviderConfigSchema.optional(),
    connectToken: z.string().max(256).optional().meta({
      description: 'A connect token from `POST /v1/connect-tokens`; lets a publishable key replace a key or set a base URL.',
      example: 'byo_ct_...',
    }),
    limits: OwnerLimitsSchema.optional(),
  })
  .meta({ examples: [{ provider: 'openai', refId: 'customer_123', providerKey: 'sk-byo-test-valid' }] });
export type ConnectKeyInput = z.infer<typeof ConnectKeyInputSchema>;

export const ConnectKeyOutputSchema = z.object({
  id: z.string().meta({ example: 'key_3xK9...' }),
  provider: ProviderSchema,
  refId: z.string(),
  status: KeyStatusSchema,
  updated: z.boolean().meta({ description: 'true when an existing key for this refId and provider was replaced' }),
  keyHint: z.string().meta({ example: 'sk-...abcd' }),
});
export type ConnectKeyOutput = z.infer<typeof ConnectKeyOutputSchema>;

export const KeyRefInputSchema = z
  .strictObject({ provider: ProviderSchema, refId: RefIdSchema })
  .meta({ examples: [{ provider: 'openai', refId: 'customer_123' }] });

export const LowerKeyLimitsInputSchema = z
  .strictObject({ provider: ProviderSchema, refId: RefIdSchema, limits: OwnerLimitsSchema })
  .meta({ examples: [{ provider: 'openai', refId: 'customer_123', limits: [{ metric: 'cost_usd', window: 'month', max: 20 }] }] });

export const HealthOutcomeSchema = z.enum(['valid', 'invalid', 'unreachable']).meta({
  description:
    '`valid`: the provider accepted the key. `invalid`: it refused the key itself (401/403). `unreachable`: it could not be asked (DNS, timeout, 429, 5xx); never disables a key.',
});

export const LastValidationSchema = z.object({
  outcome: HealthOutcomeSchema,
  at: TimestampSchema,
  message: z.string().nullable().meta({ description: 'Why, in words (never the key); null when the provider accepted it.' }),
});

export const KeyMetadataSchema = z.object({
  id: z.string(),
  provider: ProviderSchema,
  refId: z.string(),
  status: KeyStatusSchema,
  statusReason: z.string().nullable(),
  keyHint: z.string().nullable(),
  baseUrl: z.string().nullable().meta({
    description: "Where this key's calls go when not the provider's default: its custom base URL (`openai`), or its endpoint (`azure`).",
  }),
  settings: z
    .record(z.string(), z.string())
    .nullable()
    .meta({
      description:
        'Provider settings stored with the key (never secrets): `region` and `accessKeyId` (`bedrock`), `location` and `projectId` (`vertex`); null for providers without any.',
      example: { region: 'us-east-1' },
    }),
  lastValidatedAt: TimestampSchema.nullable(),
  lastValidationResult: z.string().nullable().meta({
    description:
      '`valid`, `invalid` or `unknown` (the provider could not be asked): the outcome of `lastValidation` in the words of `POST /v1/keys/validate`.',
  }),
  lastValidation: LastValidationSchema.nullable().meta({
    description: 'The last check of the key with its provider (scheduled, at connect, or `POST /v1/keys/validate`); null: never checked.',
  }),
  models: z
    .array(z.string())
    .nullable()
    .meta({
      description:
        "The model ids the provider's model listing gave for this key, sorted: what it can use. Read by the scheduled checks, the first one right after connect. Null: not listed yet, or the provider has no listing BYO reads (OpenRouter, Perplexity).",
      example: ['gpt-4o', 'gpt-4o-mini'],
    }),
  modelsCheckedAt: TimestampSchema.nullable().meta({ description: 'When `models` was read.' }),
  limits: OwnerLimitsSchema.nullable().meta({
    description:
      "The key owner's cap given at connect (or lowered since by the secret key); null: none. Its live use: GET /v1/customers/{refId}.",
  }),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type KeyMetadata = z.infer<typeof KeyMetadataSchema>;

export const ValidateKeyOutputSchema = z.object({
  valid: z.boolean().meta({ description: 'true when the provider accepted the key' }),
  result: z
    .enum(['valid', 'invalid', 'unknown'])
    .meta({ description: '`invalid`: the provider rejected the key (401/403). `unknown`: it could not be checked (timeout, 429, 5xx).' }),
  reason: z.string().nullable(),
  providerStatus: z.number().int().nullable(),
  checkedAt: TimestampSchema,
  key: KeyMetadataSchema,
});

export const RevokeKeyOutputSchema = KeyMetadataSchema;

export const ListKeysInputSchema = z.strictObject({
  refId: RefIdSchema.optional(),
  provider: ProviderSchema.optional(),
  status: KeyStatusSchema.optional(),
  lastOutcome: HealthOutcomeSchema.optional().meta({
    description: 'Only keys whose last check (`lastValidation.outcome`) had this outcome.',
  }),
  limit: LimitSchema,
  cursor: CursorSchema,
});

export const ListKeysOutputSchema = z.object({
  data: z.array(KeyMetadataSchema),
  nextCursor: z.string().nullable(),
});

export const KeyHealthInputSchema = z.strictObject({
  provider: ProviderSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Failing keys to list, at most (1-200).' }),
});

const Count = z.number().int().min(0);

export const KeyHealthOutputSchema = z.object({
  byStatus: z.object({ active: Count, disabled: Count, revoked: Count }),
  byOutcome: z
    .object({ valid: Count, invalid: Count, unreachable: Count, unchecked: Count })
    .meta({ description: "Active keys by their last check's outcome (`unchecked`: never checked yet)." }),
  failing: z.array(KeyMetadataSchema).meta({
    description:
      'Keys whose last check was `invalid` or `unreachable` (active or disabled, not revoked), the most recently checked first: `lastValidation.message` says why.',
  }),
});
export type KeyHealthOutput = z.infer<typeof KeyHealthOutputSchema>;
