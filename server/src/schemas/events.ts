import { z } from 'zod';
import { ModeSchema, ProviderSchema, TimestampSchema } from './common.js';
import { LIMIT_METRICS, LIMIT_WINDOWS } from './limits.js';

/**
 * The events BYO delivers to webhook endpoints: the `data` of each type and the body every
 * delivery has. The one definition: domain/events.ts writes events through these types, the
 * OpenAPI document lists them as `webhooks`, and the SDK and CLI are generated from it. The
 * schema ids are the names the SDK exports.
 */

const RefIdField = z.string().meta({ description: 'Your id of the customer (`refId` of the key).', example: 'customer_123' });

const KeyFields = {
  provider: ProviderSchema,
  refId: RefIdField,
  keyHint: z.string().nullable().meta({
    description: 'The first and last characters of the key, like `sk-...abcd` (never key material); null for a key stored without one.',
    example: 'sk-...abcd',
  }),
};
const ReasonField = z.string().meta({
  description: 'Why the provider or an operator refused the key.',
  example: 'The provider rejected the key (HTTP 401).',
});
const ValidationFailedFields = {
  source: z.literal('scheduled_check').optional().meta({
    description: '`scheduled_check` when a scheduled check found the stored key refused; absent when a connect was refused.',
  }),
  consecutive: z.number().int().min(1).optional().meta({ description: 'Refusals in a row, this one included (scheduled checks only).' }),
};

export const KeyEventDataSchema = z
  .object(KeyFields)
  .meta({ id: 'KeyEventData', description: 'Data carried by every key lifecycle event.' });
export const KeyEventDataWithReasonSchema = z
  .object({ ...KeyFields, reason: ReasonField })
  .meta({ id: 'KeyEventDataWithReason', description: '`key.disabled` and `key.validation_failed` also say why.' });
export const KeyConnectedEventDataSchema = z
  .object({
    ...KeyFields,
    replaced: z
      .boolean()
      .meta({ description: 'true when the refId already had a key (active, disabled or revoked) that this one replaced.' }),
    by: z.enum(['secret_key', 'publishable_key', 'connect_token']).meta({
      description:
        'The credential that connected it: your `secret_key`, a `publishable_key` (browser, first connection of the refId only) or a publishable key with a `connect_token` from your backend.',
    }),
  })
  .meta({
    id: 'KeyConnectedEventData',
    description: '`key.connected` also says whether the refId had a key before, and who connected this one.',
  });
export const KeyValidationFailedEventDataSchema = z.object({ ...KeyFields, reason: ReasonField, ...ValidationFailedFields }).meta({
  id: 'KeyValidationFailedEventData',
  description: '`key.validation_failed` from a scheduled check also says it was one, and how many refusals in a row.',
});
export const KeyModelsChangedEventDataSchema = z
  .object({
    ...KeyFields,
    added: z.array(z.string()).meta({ description: 'Model ids listed now and not before.' }),
    removed: z.array(z.string()).meta({ description: 'Model ids listed before and not now.' }),
    count: z.number().int().min(0).meta({ description: "How many models the key lists now (the whole list: the key's `models`)." }),
  })
  .meta({
    id: 'KeyModelsChangedEventData',
    description: '`key.models_changed`: the models the provider lists for the key changed since its last check.',
  });

export const LimitEventLimitSchema = z
  .object({
    metric: z.enum(LIMIT_METRICS),
    window: z.enum(LIMIT_WINDOWS),
    max: z.number(),
    provider: ProviderSchema.nullable().meta({ description: 'Only calls to this provider count; null: every provider.' }),
    warnAt: z.number().meta({ description: 'Fraction of `max` at which `limit.warning` is sent.' }),
  })
  .meta({ id: 'LimitEventLimit', description: 'A spend limit, as `limit.*` events carry it.' });
const LimitFields = {
  refId: RefIdField,
  provider: ProviderSchema.meta({ description: 'The provider of the call that crossed or hit the limit.' }),
  scope: z.enum(['customer', 'default', 'owner']).meta({
    description: "Whose limit: the customer's own, the project default, or the key owner's cap.",
  }),
  limit: LimitEventLimitSchema,
  used: z.number().optional().meta({
    description:
      'Used in the window (before the refused call, for `limit.exceeded`); absent on a `limit.warning` raised when a call settled.',
  }),
  windowStart: TimestampSchema,
  resetsAt: TimestampSchema,
  at: TimestampSchema,
};
export const LimitEventDataSchema = z
  .object(LimitFields)
  .meta({ id: 'LimitEventData', description: 'Data of `limit.warning` and `limit.exceeded`.' });
export const LimitExceededEventDataSchema = z
  .object({ ...LimitFields, requested: z.number().meta({ description: 'What the refused call would have used.' }) })
  .meta({ id: 'LimitExceededEventData', description: '`limit.exceeded` also says what the refused call would have used.' });

export const WebhookTestEventDataSchema = z
  .object({
    endpointId: z.string().meta({ description: 'The endpoint that was tested (`we_...`).' }),
    message: z.string(),
  })
  .meta({ id: 'WebhookTestEventData', description: 'Data of a `webhook.test` event.' });

/**
 * Every event type: the data schema, the SDK's name of its envelope, when it is sent. The order
 * is the order of every list of event types (subscription filters, CLI options, docs).
 */
export const EVENT_DEFINITIONS = {
  'key.connected': { name: 'KeyConnectedEvent', data: KeyConnectedEventDataSchema, description: 'A key was stored, or replaced.' },
  'key.revoked': {
    name: 'KeyRevokedEvent',
    data: KeyEventDataSchema,
    description: 'Your backend revoked the key (its material is destroyed).',
  },
  'key.disabled': {
    name: 'KeyDisabledEvent',
    data: KeyEventDataWithReasonSchema,
    description:
      'The provider rejected the stored key during a proxied call or at scheduled checks, or an operator disabled it. Sent once per disable.',
  },
  'key.validation_failed': {
    name: 'KeyValidationFailedEvent',
    data: KeyValidationFailedEventDataSchema,
    description: 'Validation on connect refused the key (it was not stored), or a scheduled check found the stored key refused.',
  },
  'key.models_changed': {
    name: 'KeyModelsChangedEvent',
    data: KeyModelsChangedEventDataSchema,
    description: 'The models the provider lists for the key changed.',
  },
  'limit.warning': {
    name: 'LimitWarningEvent',
    data: LimitEventDataSchema,
    description: "A customer's use crossed `warnAt` of a limit: the app's, or the owner's cap on the key (`scope`); once per window.",
  },
  'limit.exceeded': {
    name: 'LimitExceededEvent',
    data: LimitExceededEventDataSchema,
    description: 'A call was refused by a limit, the first time in its window.',
  },
  'webhook.test': {
    name: 'WebhookTestEvent',
    data: WebhookTestEventDataSchema,
    description: 'Sent by the endpoint\'s "test" action (without another `event` type); only to that endpoint.',
  },
} as const;

type Definitions = typeof EVENT_DEFINITIONS;
export type EventType = keyof Definitions;
export type EventData<T extends EventType> = z.infer<Definitions[T]['data']>;
/** An event as the server writes it: the data must be that of its type. */
export type EventInput = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

export const EVENT_TYPES = Object.keys(EVENT_DEFINITIONS) as [EventType, ...EventType[]];
/** Event types an endpoint can subscribe to. `webhook.test` is only sent by the test action. */
export type SubscribableEventType = Exclude<EventType, 'webhook.test'>;
export const SUBSCRIBABLE_EVENT_TYPES = EVENT_TYPES.filter((t): t is SubscribableEventType => t !== 'webhook.test') as [
  SubscribableEventType,
  ...SubscribableEventType[],
];

/** The body of a delivery of a `type` event: the same bytes on every attempt (webhooks/event-body.ts). */
function envelope<T extends EventType>(type: T) {
  const def: Definitions[T] = EVENT_DEFINITIONS[type];
  return z
    .object({
      id: z.string().meta({
        description: 'The event id (`evt_...`), also the `webhook-id` header: the same on every retry and redelivery, so dedupe on it.',
        example: 'evt_3pijvS5OtCrloFXLRE20TZ',
      }),
      type: z.literal(type),
      createdAt: TimestampSchema.meta({ description: 'When the event happened; events may arrive out of order.' }),
      mode: ModeSchema.meta({ description: 'Endpoints receive the events of their own mode only.' }),
      data: def.data,
    })
    .meta({ id: def.name, description: def.description });
}

export const EVENT_SCHEMAS = Object.fromEntries(EVENT_TYPES.map((t) => [t, envelope(t)])) as {
  [T in EventType]: ReturnType<typeof envelope<T>>;
};
/** Any delivered event, by `type`. */
export const WebhookEventSchema = z
  .discriminatedUnion(
    'type',
    EVENT_TYPES.map((t) => EVENT_SCHEMAS[t]) as unknown as [(typeof EVENT_SCHEMAS)[EventType], ...(typeof EVENT_SCHEMAS)[EventType][]],
  )
  .meta({ id: 'WebhookEvent', description: 'The body of every webhook delivery.' });
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
