import {
  CreatedEndpointSchema,
  CreateEndpointInputSchema,
  DeletedEndpointSchema,
  DeliveryRefInputSchema,
  EndpointRefInputSchema,
  ListDeliveriesInputSchema,
  ListDeliveriesOutputSchema,
  ListEndpointsInputSchema,
  ListEndpointsOutputSchema,
  RotatedSecretSchema,
  RotateSecretInputSchema,
  TestEndpointInputSchema,
  TestEndpointOutputSchema,
  UpdateEndpointInputSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
} from '../../schemas/webhooks.js';
import { listDeliveries, redeliver } from '../../webhooks/delivery-log.js';
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, testEndpoint, updateEndpoint } from '../../webhooks/endpoints.js';
import { rotateSecret } from '../../webhooks/secret-rotation.js';
import { idempotent } from '../idempotent.js';
import { router, secretProcedure } from '../init.js';

const TAGS = ['Webhooks'];
const ENDPOINTS = '/webhooks/endpoints';

const endpointsRouter = router({
  create: secretProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: ENDPOINTS,
        tags: TAGS,
        summary: 'Create a webhook endpoint; its signing secret is returned once',
        description:
          "Events of this key's mode (live or test) are POSTed to `url`, signed with `X-BYO-Signature` and the Standard Webhooks headers. The `whsec_` secret appears only in this response and in rotate-secret's.",
        errorResponses: {
          400: 'Invalid input or URL not allowed',
          401: 'Bad API key',
          403: 'Not a secret key',
          409: 'Too many endpoints (`endpoint_limit_reached`), or `idempotency_in_progress`',
          422: 'The `Idempotency-Key` was used with another request (`idempotency_conflict`)',
        },
      },
    })
    .input(CreateEndpointInputSchema)
    .output(CreatedEndpointSchema)
    .mutation(({ ctx, input }) =>
      idempotent(ctx, 'webhooks.endpoints.create', input, () => createEndpoint(ctx.services, ctx.key, ctx.key.actor, input), ['secret']),
    ),

  list: secretProcedure
    .meta({ openapi: { method: 'GET', path: ENDPOINTS, tags: TAGS, summary: 'List webhook endpoints' } })
    .input(ListEndpointsInputSchema)
    .output(ListEndpointsOutputSchema)
    .query(({ ctx, input }) => listEndpoints(ctx.services, ctx.key, input)),

  get: secretProcedure
    .meta({ openapi: { method: 'GET', path: `${ENDPOINTS}/{id}`, tags: TAGS, summary: 'Get a webhook endpoint' } })
    .input(EndpointRefInputSchema)
    .output(WebhookEndpointSchema)
    .query(({ ctx, input }) => getEndpoint(ctx.services, ctx.key, input.id)),

  update: secretProcedure
    .meta({
      openapi: {
        method: 'PATCH',
        path: `${ENDPOINTS}/{id}`,
        tags: TAGS,
        summary: 'Update a webhook endpoint (URL, events, description, enabled)',
        description: 'Disabling marks its pending deliveries failed; enabling clears the failure state.',
      },
    })
    .input(UpdateEndpointInputSchema)
    .output(WebhookEndpointSchema)
    .mutation(({ ctx, input }) => updateEndpoint(ctx.services, ctx.key, ctx.key.actor, input)),

  delete: secretProcedure
    .meta({
      openapi: { method: 'DELETE', path: `${ENDPOINTS}/{id}`, tags: TAGS, summary: 'Delete a webhook endpoint and its delivery log' },
    })
    .input(EndpointRefInputSchema)
    .output(DeletedEndpointSchema)
    .mutation(({ ctx, input }) => deleteEndpoint(ctx.services, ctx.key, ctx.key.actor, input.id)),

  rotateSecret: secretProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: `${ENDPOINTS}/{id}/rotate-secret`,
        tags: TAGS,
        summary: 'Rotate the signing secret, with an overlap',
        description:
          'Returns the new secret (once). Until `previousSecretExpiresAt`, every delivery is signed with both secrets, so the receiver can switch without losing events.',
      },
    })
    .input(RotateSecretInputSchema)
    .output(RotatedSecretSchema)
    .mutation(({ ctx, input }) =>
      idempotent(ctx, 'webhooks.endpoints.rotateSecret', input, () => rotateSecret(ctx.services, ctx.key, ctx.key.actor, input), [
        'secret',
      ]),
    ),

  test: secretProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: `${ENDPOINTS}/{id}/test`,
        tags: TAGS,
        summary: 'Send a webhook.test (or a sample key) event now and return the result',
        description:
          'One signed attempt through the normal delivery path, to this endpoint only (its event filter is not applied); the answer has the status code, latency and the first bytes of the response. `event` picks the type: a sample key or limit event has the shape of the real one, with sample data (`refId: "ref_test"`).',
      },
    })
    .input(TestEndpointInputSchema)
    .output(TestEndpointOutputSchema)
    .mutation(({ ctx, input }) => testEndpoint(ctx.services, ctx.key, ctx.key.actor, input.id, input.event)),
});

const deliveriesRouter = router({
  list: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/webhooks/deliveries',
        tags: TAGS,
        summary: 'The delivery log, newest first (filter by endpoint, event, status)',
      },
    })
    .input(ListDeliveriesInputSchema)
    .output(ListDeliveriesOutputSchema)
    .query(({ ctx, input }) => listDeliveries(ctx.services, ctx.key, input)),

  redeliver: secretProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/webhooks/deliveries/{id}/redeliver',
        tags: TAGS,
        summary: 'Send a delivery again (same event id, fresh retry schedule)',
      },
    })
    .input(DeliveryRefInputSchema)
    .output(WebhookDeliverySchema)
    .mutation(({ ctx, input }) =>
      idempotent(ctx, 'webhooks.deliveries.redeliver', input, () => redeliver(ctx.services, ctx.key, ctx.key.actor, input.id)),
    ),
});

export const webhooksRouter = router({ endpoints: endpointsRouter, deliveries: deliveriesRouter });
