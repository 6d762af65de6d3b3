import { z } from 'zod';
import { ModeSchema, TimestampSchema } from './common.js';

const OriginSchema = z
  .string()
  .max(512)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === v;
    } catch {
      return false;
    }
  }, 'an origin is scheme://host[:port] with no path, e.g. https://app.example.com')
  .meta({ example: 'https://app.example.com' });

const HostSchema = z
  .string()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i, 'a host such as openrouter.ai or *.example.com')
  .meta({ example: 'llm.example.com' });

export const ProjectIdSchema = z.string().max(64).meta({ description: 'A project id (`proj_...`).', example: 'proj_4q7TfXr2mY9wKc1Bz8' });
export const ApiKeyIdSchema = z
  .string()
  .max(64)
  .meta({ description: 'An API key id (`ak_...`), not the key itself.', example: 'ak_7Hn2LpQ4sV8xDc3Fw1' });

export const PublishableConnectSchema = z.enum(['open', 'token_required']).meta({
  description:
    '`open`: a publishable key may store a first key for a refId. `token_required`: every publishable connect needs a connect token.',
});

export const ProjectSettingsSchema = z.strictObject({
  name: z.string().min(1).max(200).optional().meta({ example: 'Acme' }),
  allowedOrigins: z.array(OriginSchema).max(100).optional(),
  allowedBaseUrlHosts: z.array(HostSchema).max(200).optional(),
  validateOnConnect: z.boolean().optional(),
  publishableConnect: PublishableConnectSchema.optional(),
});

export const ProjectSchema = z.object({
  id: z.string(),
  name: z.string(),
  allowedOrigins: z.array(z.string()),
  allowedBaseUrlHosts: z.array(z.string()),
  validateOnConnect: z.boolean(),
  publishableConnect: PublishableConnectSchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});

export const CreateProjectInputSchema = ProjectSettingsSchema.extend({ name: z.string().min(1).max(200).meta({ example: 'Acme' }) });

export const ApiKeySchema = z.object({
  id: z.string(),
  projectId: z.string(),
  kind: z.enum(['pk', 'sk']),
  mode: ModeSchema,
  keyHint: z.string(),
  createdAt: TimestampSchema,
  expiresAt: TimestampSchema.nullable(),
  revokedAt: TimestampSchema.nullable(),
  lastUsedAt: TimestampSchema.nullable(),
});

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().meta({ description: 'The full key. Shown once; only its hash is stored.' }),
});

export const CreateProjectOutputSchema = z.object({
  project: ProjectSchema,
  keys: z.array(CreatedApiKeySchema),
});
