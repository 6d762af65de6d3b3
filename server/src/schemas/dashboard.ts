import { z } from 'zod';
import { ModeSchema, TimestampSchema } from './common.js';

/** The operator dashboard's own calls: its session, and the read models its screens draw. */

export const SignInInputSchema = z.strictObject({
  secret: z.string().min(1).max(512).meta({ description: 'A secret key (byo_sk_...) or the admin token. Sent once; never stored.' }),
});

export const DashboardSessionSchema = z.object({
  principal: z
    .enum(['admin', 'secret_key'])
    .meta({ description: 'The admin token sees every project; a secret key its own project and mode.' }),
  project: z
    .object({ id: z.string(), name: z.string() })
    .nullable()
    .meta({ description: "The secret key's project (null for the admin)." }),
  mode: ModeSchema.nullable(),
  csrfToken: z.string().meta({ description: 'Send as x-byo-csrf on every state-changing call of this session.' }),
  expiresAt: TimestampSchema.meta({
    description: 'The latest the session can last; it ends sooner after BYO_DASHBOARD_IDLE_TIMEOUT idle.',
  }),
  idleTimeoutSeconds: z.number().int(),
});
export type DashboardSession = z.infer<typeof DashboardSessionSchema>;

const Count = z.number().int().min(0);

export const OverviewDaySchema = z.object({
  day: z.string().meta({ description: 'UTC day (YYYY-MM-DD)', example: '2026-01-15' }),
  requests: Count,
  errors: Count,
  totalTokens: Count,
  costUsd: z.number().nullable().meta({ description: 'Spend at the price table; null while no price is known.' }),
});

export const FailingEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  enabled: z.boolean(),
  failingSince: TimestampSchema.nullable(),
  disabledReason: z.string().nullable(),
});

export const OverviewSchema = z.object({
  mode: ModeSchema,
  keys: z.object({ active: Count, disabled: Count, revoked: Count }).meta({ description: 'Stored provider keys by status' }),
  customers: z.object({
    connected: Count.meta({ description: 'refIds with at least one active key' }),
    active: Count.meta({ description: 'refIds with at least one proxied call in the 30 days' }),
  }),
  days: z.array(OverviewDaySchema).meta({ description: 'The last 30 UTC days, oldest first, every day present' }),
  totals: z.object({ requests: Count, errors: Count, totalTokens: Count, costUsd: z.number().nullable() }),
  errorRate: z.number().min(0).max(1).meta({ description: 'errors / requests over the 30 days (0 without requests)' }),
  webhooks: z.object({
    endpoints: Count,
    failing: z.array(FailingEndpointSchema).meta({ description: 'Endpoints failing or disabled, at most 20' }),
    failedDeliveries24h: Count,
  }),
});
export type Overview = z.infer<typeof OverviewSchema>;
