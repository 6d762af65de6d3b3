import { UsageOutputSchema, UsageQueryInputSchema } from '../../schemas/usage.js';
import { queryUsage } from '../../usage/query.js';
import { router, secretProcedure } from '../init.js';

export const usageRouter = router({
  get: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/usage',
        tags: ['Usage'],
        summary: 'Usage of proxied calls by day, refId, provider and model',
        description:
          'Counts and token totals the providers reported for calls through `/v1/proxy`, for the key’s project and mode. Records are written in batches about a second after each call.',
      },
    })
    .input(UsageQueryInputSchema)
    .output(UsageOutputSchema)
    .query(async ({ ctx, input }) => {
      await ctx.services.flushUsage?.().catch(() => {});
      return queryUsage(ctx.services.db, { projectId: ctx.key.project.id, mode: ctx.key.mode }, input);
    }),
});
