import { getCustomer, listCustomers } from '../../domain/customers.js';
import { CustomerRefInputSchema, CustomerSchema, ListCustomersInputSchema, ListCustomersOutputSchema } from '../../schemas/customers.js';
import { router, secretProcedure } from '../init.js';

const TAGS = ['Customers'];

/** The customers read model: refIds with their keys, last use, usage this month and limits. */
export const customersRouter = router({
  list: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/customers',
        tags: TAGS,
        summary: 'Customers (refIds with a stored key): keys, last use, this month’s requests, tokens and cost',
        description: 'In refId byte order; `prefix` narrows to refIds starting with it. Pass `nextCursor` as `cursor` for the next page.',
      },
    })
    .input(ListCustomersInputSchema)
    .output(ListCustomersOutputSchema)
    .query(async ({ ctx, input }) => {
      await ctx.services.flushUsage?.().catch(() => {});
      return listCustomers(ctx.services, { projectId: ctx.key.project.id, mode: ctx.key.mode }, input);
    }),
  get: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/customers/{refId}',
        tags: TAGS,
        summary: 'A customer: its keys, its limits with their live state, its usage this month',
        errorResponses: { 401: 'Bad API key', 403: 'Not a secret key', 404: 'No key is stored for this refId (`not_found`)' },
      },
    })
    .input(CustomerRefInputSchema)
    .output(CustomerSchema)
    .query(async ({ ctx, input }) => {
      await ctx.services.flushUsage?.().catch(() => {});
      return getCustomer(ctx.services, ctx.key, input.refId);
    }),
});
