import { z } from 'zod';

/** Master-key (KEK) rotation: counts per key id, and batched re-wrapping. */

export const MasterKeyCountSchema = z.object({
  id: z.string().meta({ description: 'Master key id, as in BYO_MASTER_KEYS' }),
  active: z.boolean().meta({ description: 'New data keys are wrapped with this key' }),
  inKeyring: z.boolean().meta({ description: 'false: rows wrapped by a key this server does not hold (they cannot be decrypted here)' }),
  providerKeys: z.number().int(),
  webhookSecrets: z.number().int().meta({ description: 'Current and previous (overlap) webhook signing secrets' }),
  idempotencyResponses: z.number().int().meta({
    description: 'Data keys in stored Idempotency-Key records (the key of each request hash, secrets in stored responses), kept 24 hours',
  }),
  total: z.number().int(),
});
export type MasterKeyCount = z.infer<typeof MasterKeyCountSchema>;

export const SecretsStatusSchema = z.object({
  activeKeyId: z.string(),
  keyring: z.array(z.string()).meta({ description: "The server's keyring ids, active first" }),
  keys: z.array(MasterKeyCountSchema).meta({ description: 'Every keyring id plus any id still found on a row' }),
  pending: z.number().int().meta({ description: 'Data keys not yet wrapped by the active key' }),
  retirable: z.array(z.string()).meta({ description: 'Keyring ids with no rows left: safe to remove from BYO_MASTER_KEYS' }),
});
export type SecretsStatus = z.infer<typeof SecretsStatusSchema>;

export const RotateBatchInputSchema = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(500)
    .meta({ description: 'Rows to claim in this call (each table stage runs in one transaction).' }),
  after: z
    .string()
    .max(4096)
    .meta({
      description: 'Cursor from the previous batch (`next`); omit to start a pass from the beginning.',
      example: 'p:key_3GKW7ox0rXi6SzAF6gYPI1',
    })
    .optional(),
});
export type RotateBatchInput = z.infer<typeof RotateBatchInputSchema>;

export const RotateFailureSchema = z.object({
  table: z.enum(['provider_keys', 'webhook_endpoints', 'idempotency_keys']),
  id: z.string(),
  reason: z.string(),
});

export const RotateBatchOutputSchema = z.object({
  activeKeyId: z.string(),
  rewrapped: z.number().int().meta({ description: 'Data keys re-wrapped by this call (a webhook endpoint in a secret overlap holds two)' }),
  failed: z.array(RotateFailureSchema).meta({ description: 'Rows that could not be re-wrapped (they keep their old wrap)' }),
  remaining: z.number().int().meta({ description: 'Data keys still not wrapped by the active key, after this call' }),
  next: z.string().nullable().meta({ description: 'Pass `after: next` to continue this pass; null when the pass reached the end.' }),
});
export type RotateBatchOutput = z.infer<typeof RotateBatchOutputSchema>;
