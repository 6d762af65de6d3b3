import { z } from 'zod';
import { providerCatalog } from '../../providers/catalog.js';
import { ProviderListOutputSchema } from '../../schemas/providers.js';
import { publishableProcedure, router } from '../init.js';

export const providersRouter = router({
  list: publishableProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/providers',
        tags: ['Providers'],
        summary: 'The providers this server speaks, with the credential fields each takes',
        description:
          'Callable with a publishable or a secret key: a connect form renders its fields from it. Each credential field says where its value goes in a connect call (`providerKey` or `providerConfig.<name>`).',
      },
    })
    .input(z.strictObject({}).optional())
    .output(ProviderListOutputSchema)
    .query(({ ctx }) => ({ data: providerCatalog(ctx.services.providers) })),
});
