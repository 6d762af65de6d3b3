import { z } from 'zod';
import { DEFAULT_REF, writeLimits } from '../../limits/store.js';
import {
  CustomerLimitsRefSchema,
  LimitsOutputSchema,
  SetCustomerLimitsInputSchema,
  SetDefaultLimitsInputSchema,
} from '../../schemas/limits.js';
import { audit } from '../../domain/audit.js';
import { router, secretProcedure } from '../init.js';
import type { KeyScope } from '../init.js';
import type { Services } from '../../services.js';
import type { SpendLimit } from '../../schemas/limits.js';

const TAGS = ['Limits'];
const CUSTOMER_LIMITS = '/customers/{refId}/limits';
const DEFAULT_LIMITS = '/limits/default';
const ERRORS = { 400: 'Invalid limits (`validation_failed`)', 401: 'Bad API key', 403: 'Not a secret key' };
const DESCRIPTION =
  'Each limit is `{ metric: requests|tokens|cost_usd, window: minute|hour|day|month, max, provider?, warnAt? }`; the proxy refuses a call that would pass one with 429 `limit_exceeded` in the provider’s error shape and `Retry-After`. GET adds `used`, `remaining` and `resetsAt` for the current window. See docs/spend-controls.md.';

/** Replaces (or, with none, clears) the limits of `refId` or of the project default, and tells every instance. */
async function put(services: Services, key: KeyScope, refId: string, limits: SpendLimit[]) {
  const scope = { projectId: key.project.id, mode: key.mode };
  await writeLimits(services.db, scope, refId, limits);
  await audit(services.db, key.actor, {
    projectId: key.project.id,
    mode: key.mode,
    action: limits.length ? 'limits.set' : 'limits.cleared',
    target: refId === DEFAULT_REF ? 'default' : refId,
    metadata: { limits },
  });
  await services.limits.invalidate(scope);
  return services.limits.state(scope, refId === DEFAULT_REF ? null : refId);
}

/** Spend limits per customer and the project default. */
export const limitsRouter = router({
  customerGet: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: CUSTOMER_LIMITS,
        tags: TAGS,
        summary: 'A customer’s limits in force (its own, else the default) with their use',
        description: DESCRIPTION,
      },
    })
    .input(CustomerLimitsRefSchema)
    .output(LimitsOutputSchema)
    .query(({ ctx, input }) => ctx.services.limits.state({ projectId: ctx.key.project.id, mode: ctx.key.mode }, input.refId)),
  customerSet: secretProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: CUSTOMER_LIMITS,
        tags: TAGS,
        summary: 'Replace a customer’s limits (they replace the default for this customer)',
        description: DESCRIPTION,
        errorResponses: ERRORS,
      },
    })
    .input(SetCustomerLimitsInputSchema)
    .output(LimitsOutputSchema)
    .mutation(({ ctx, input }) => put(ctx.services, ctx.key, input.refId, input.limits)),
  customerClear: secretProcedure
    .meta({
      openapi: { method: 'DELETE', path: CUSTOMER_LIMITS, tags: TAGS, summary: 'Clear a customer’s limits (the default applies again)' },
    })
    .input(CustomerLimitsRefSchema)
    .output(LimitsOutputSchema)
    .mutation(({ ctx, input }) => put(ctx.services, ctx.key, input.refId, [])),
  defaultGet: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: DEFAULT_LIMITS,
        tags: TAGS,
        summary: 'The project’s default limits (for customers without their own)',
        description: DESCRIPTION,
      },
    })
    .input(z.strictObject({}).optional())
    .output(LimitsOutputSchema)
    .query(({ ctx }) => ctx.services.limits.state({ projectId: ctx.key.project.id, mode: ctx.key.mode }, null)),
  defaultSet: secretProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: DEFAULT_LIMITS,
        tags: TAGS,
        summary: 'Replace the project’s default limits',
        description: DESCRIPTION,
        errorResponses: ERRORS,
      },
    })
    .input(SetDefaultLimitsInputSchema)
    .output(LimitsOutputSchema)
    .mutation(({ ctx, input }) => put(ctx.services, ctx.key, DEFAULT_REF, input.limits)),
  defaultClear: secretProcedure
    .meta({ openapi: { method: 'DELETE', path: DEFAULT_LIMITS, tags: TAGS, summary: 'Clear the project’s default limits' } })
    .input(z.strictObject({}).optional())
    .output(LimitsOutputSchema)
    .mutation(({ ctx }) => put(ctx.services, ctx.key, DEFAULT_REF, [])),
});
