import { z } from 'zod';
import { CursorSchema, LimitSchema, ModeSchema, TimestampSchema } from './common.js';
import { EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES } from './events.js';

export const WebhookEventTypeSchema = z.enum(EVENT_TYPES);
export const EventFilterSchema = z
  .array(z.enum([...SUBSCRIBABLE_EVENT_TYPES, '*']))
  .min(1)
  .max(10)
  .meta({
    description: 'Event types to receive; `["*"]` (the default) is every event type (all but `webhook.test`).',
    example: ['key.disabled', 'key.revoked'],
  });

export const WebhookUrlSchema = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.hash;
    } catch {
      return false;
    }
  }, 'url must be an absolute https URL without credentials or fragment')
  .meta({
    description:
      'Where events are POSTed. https is required in live mode (unless the operator allows http); private and loopback addresses are refused unless the operator allows them.',
    example: 'https://app.example.com/byo/webhooks',
  });

export const EndpointIdSchema = z.string().min(1).max(64).meta({ example: 'we_3xK9...' });
export const DeliveryIdSchema = z.string().min(1).max(64).meta({ example: 'wd_3xK9...' });

export const WebhookEndpointSchema = z.object({
  id: EndpointIdSchema,
  mode: ModeSchema.meta({ description: 'A test key sees (and receives) test-mode events only.' }),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().meta({ description: 'Why the endpoint was disabled (by you, a 410 answer, or failing too long).' }),
  failingSince: TimestampSchema.nullable().meta({ description: 'Start of the current run of failed attempts; null when healthy.' }),
  previousSecretExpiresAt: TimestampSchema.nullable().meta({
    description: 'During a secret rotation overlap: when the previous secret stops signing deliveries.',
  }),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

const SecretSchema = z.string().meta({
  description: 'The signing secret. Shown only here; store it now (BYO keeps it encrypted and never returns it again).',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8q8lRkw0QMs=',
});

export const CreateEndpointInputSchema = z.strictObject({
  url: WebhookUrlSchema,
  events: EventFilterSchema.default(['*']),
  description: z.string().max(500).meta({ example: 'Production receiver' }).optional(),
  enabled: z.boolean().default(true),
});

export const CreatedEndpointSchema = WebhookEndpointSchema.extend({ secret: SecretSchema });

export const UpdateEndpointInputSchema = z.strictObject({
  id: EndpointIdSchema,
  url: WebhookUrlSchema.optional(),
  events: EventFilterSchema.optional(),
  description: z.string().max(500).meta({ example: 'Production receiver' }).nullable().optional(),
  enabled: z.boolean().optional().meta({ description: 'false pauses the endpoint: its pending deliveries are marked failed.' }),
});

export const EndpointRefInputSchema = z.strictObject({ id: EndpointIdSchema });

export const TestEndpointInputSchema = z.strictObject({
  id: EndpointIdSchema,
  event: WebhookEventTypeSchema.default('webhook.test').meta({
    description:
      'The type of the sample event to send (default `webhook.test`). Any other type carries sample data shaped like the real event (`refId: "ref_test"`; `keyHint: "sk-...test"` in key events); nothing is stored or changed.',
  }),
});

export const ListEndpointsInputSchema = z.strictObject({ limit: LimitSchema, cursor: CursorSchema });
export const ListEndpointsOutputSchema = z.object({ data: z.array(WebhookEndpointSchema), nextCursor: z.string().nullable() });

export const DeletedEndpointSchema = z.object({ id: z.string(), deleted: z.literal(true) });

export const RotateSecretInputSchema = z.strictObject({
  id: EndpointIdSchema,
  overlapSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400)
    .meta({
      description: 'How long deliveries are also signed with the previous secret (0 = stop at once). Default 24 h, at most 7 days.',
    }),
});

export const RotatedSecretSchema = z.object({
  endpoint: WebhookEndpointSchema,
  secret: SecretSchema,
  previousSecretExpiresAt: TimestampSchema.nullable(),
});

export const DeliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed']);

export const WebhookDeliverySchema = z.object({
  id: DeliveryIdSchema,
  eventId: z.string().meta({ description: 'Stable across retries and redeliveries: the `webhook-id` header. Dedupe on it.' }),
  endpointId: z.string(),
  eventType: z.string(),
  mode: ModeSchema,
  status: DeliveryStatusSchema,
  attempts: z.number().int(),
  nextAttemptAt: TimestampSchema.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastResponse: z.string().nullable().meta({ description: 'The first bytes of the last response body.' }),
  lastLatencyMs: z.number().int().nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  deliveredAt: TimestampSchema.nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const TestEndpointOutputSchema = z.object({
  success: z.boolean().meta({ description: 'true when the endpoint answered 2xx' }),
  statusCode: z.number().int().nullable().meta({ description: 'null when no HTTP answer arrived (refused, timeout, blocked address)' }),
  latencyMs: z.number().int(),
  responseBody: z.string().nullable().meta({ description: 'The first bytes (up to 1 KiB) of the response body' }),
  error: z.string().nullable(),
  eventId: z.string(),
  delivery: WebhookDeliverySchema,
});

export const ListDeliveriesInputSchema = z.strictObject({
  endpointId: EndpointIdSchema.optional(),
  eventType: WebhookEventTypeSchema.optional(),
  eventId: z.string().max(64).meta({ example: 'evt_3vKqajXomNWndUl5fjrJWj' }).optional(),
  status: DeliveryStatusSchema.optional(),
  limit: LimitSchema,
  cursor: CursorSchema,
});
export const ListDeliveriesOutputSchema = z.object({ data: z.array(WebhookDeliverySchema), nextCursor: z.string().nullable() });

export const DeliveryRefInputSchema = z.strictObject({ id: DeliveryIdSchema });
