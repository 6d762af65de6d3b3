import { deletePrice, listPrices, setPrice } from '../../pricing/overrides.js';
import {
  DeletedPriceSchema,
  ListPricesInputSchema,
  ListPricesOutputSchema,
  PriceEntrySchema,
  PriceRefInputSchema,
  SetPriceInputSchema,
} from '../../schemas/prices.js';
import { router, secretProcedure } from '../init.js';

const TAGS = ['Prices'];
const PRICE = '/prices/{provider}/{model}';

/** The price table and this project's overrides. */
export const pricesRouter = router({
  list: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/prices',
        tags: TAGS,
        summary: 'Prices in USD per million tokens: this project’s overrides, then the built-in table',
        description:
          'With `provider` and `model`, the one price that model id resolves to (a dated id such as `gpt-4o-2024-08-06` resolves to `gpt-4o`); an empty `data` means the model is unpriced and its calls cost `null`.',
      },
    })
    .input(ListPricesInputSchema)
    .output(ListPricesOutputSchema)
    .query(({ ctx, input }) => listPrices(ctx.services.db, { projectId: ctx.key.project.id, mode: ctx.key.mode }, input)),

  set: secretProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: PRICE,
        tags: TAGS,
        summary: 'Set this project’s price for a model id (overrides the table; covers its dated ids)',
        errorResponses: {
          400: 'A price below 0, above 10,000 or not a number (`validation_failed`)',
          401: 'Bad API key',
          403: 'Not a secret key',
        },
      },
    })
    .input(SetPriceInputSchema)
    .output(PriceEntrySchema)
    .mutation(({ ctx, input }) =>
      setPrice(ctx.services.db, ctx.services.prices, { projectId: ctx.key.project.id, mode: ctx.key.mode }, input),
    ),

  delete: secretProcedure
    .meta({ openapi: { method: 'DELETE', path: PRICE, tags: TAGS, summary: 'Remove this project’s price for a model id' } })
    .input(PriceRefInputSchema)
    .output(DeletedPriceSchema)
    .mutation(({ ctx, input }) =>
      deletePrice(ctx.services.db, ctx.services.prices, { projectId: ctx.key.project.id, mode: ctx.key.mode }, input),
    ),
});
