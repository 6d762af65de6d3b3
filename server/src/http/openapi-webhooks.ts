import { createSchema } from 'zod-openapi';
import { EVENT_DEFINITIONS, EVENT_TYPES, WebhookEventSchema } from '../schemas/events.js';

/** The headers of every delivery (webhooks/signing.ts), by component name. */
const DELIVERY_HEADERS: [component: string, name: string, description: string][] = [
  ['WebhookId', 'webhook-id', 'The event id (Standard Webhooks): the same on every retry and redelivery.'],
  ['WebhookTimestamp', 'webhook-timestamp', 'Unix time in seconds of this attempt (Standard Webhooks); refuse one too far from now.'],
  [
    'WebhookSignature',
    'webhook-signature',
    'Space-separated `v1,<base64>` HMAC-SHA256 signatures of `<webhook-id>.<webhook-timestamp>.<body>` (Standard Webhooks), one per secret during a rotation.',
  ],
  ['ByoEventId', 'x-byo-event-id', 'The event id, as `webhook-id`.'],
  ['ByoTimestamp', 'x-byo-timestamp', 'As `webhook-timestamp`.'],
  [
    'ByoSignature',
    'x-byo-signature',
    'Lowercase hex HMAC-SHA256 of the raw body keyed with the secret string. It covers no timestamp: prefer `webhook-signature`.',
  ],
];

/**
 * The OpenAPI 3.1 `webhooks` entries, one per event type, with the schemas of their bodies
 * (schemas/events.ts; the ids are the SDK's type names) and the delivery headers. The bodies
 * are rendered as input, as a receiver reads them: without `additionalProperties: false`, since
 * an event may gain fields.
 */
export function eventWebhooks(): {
  schemas: Record<string, unknown>;
  parameters: Record<string, unknown>;
  webhooks: Record<string, unknown>;
} {
  const { components } = createSchema(WebhookEventSchema, { io: 'input', openapiVersion: '3.1.0' });
  const parameters = Object.fromEntries(
    DELIVERY_HEADERS.map(([component, name, description]) => [
      component,
      { name, in: 'header', required: true, description, schema: { type: 'string' } },
    ]),
  );
  const webhooks = Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const def = EVENT_DEFINITIONS[type];
      const post = {
        summary: `${type} event`,
        description: `${def.description} POSTed to each enabled endpoint subscribed to it, signed with the endpoint's secret.`,
        parameters: DELIVERY_HEADERS.map(([component]) => ({ $ref: `#/components/parameters/${component}` })),
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${def.name}` } } } },
        responses: {
          '2XX': { description: 'Delivered. Answer within the timeout (10 s by default) and do slow work afterwards.' },
          '410': { description: 'Gone: the endpoint is disabled at once. Any other answer, or none, is retried.' },
        },
      };
      return [type, { post }];
    }),
  );
  return { schemas: (components ?? {}) as Record<string, unknown>, parameters, webhooks };
}
