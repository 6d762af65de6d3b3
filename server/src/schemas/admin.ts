import { z } from 'zod';
import { ModeSchema, TimestampSchema } from './common.js';

export const AuditEntrySchema = z.object({
  id: z.string(),
  projectId: z.string().nullable(),
  mode: ModeSchema.nullable(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: TimestampSchema,
});

export const ListAuditInputSchema = z.strictObject({
  projectId: z.string().max(64).meta({ example: 'proj_4q7TfXr2mY9wKc1Bz8' }).optional(),
  actor: z.string().max(128).meta({ example: 'admin' }).optional(),
  action: z.string().max(128).meta({ example: 'key.revoked' }).optional(),
  since: z.iso.datetime().meta({ example: '2026-01-01T00:00:00.000Z' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const RollApiKeyInputSchema = z.strictObject({
  id: z.string().max(64).meta({ example: 'ak_7Hn2LpQ4sV8xDc3Fw1' }),
  expiresInSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400)
    .meta({ description: 'How long the old key keeps working (0 = revoke at once). Default 24 h, at most 7 days.' }),
});
