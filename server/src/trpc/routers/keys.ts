import { z } from 'zod';
import { ConnectTokenOutputSchema, CreateConnectTokenInputSchema } from '../../schemas/connect-tokens.js';
import {
  ConnectKeyInputSchema,
  ConnectKeyOutputSchema,
  KeyHealthInputSchema,
  KeyHealthOutputSchema,
  KeyMetadataSchema,
  KeyRefInputSchema,
  ListKeysInputSchema,
  ListKeysOutputSchema,
  LowerKeyLimitsInputSchema,
  RevokeKeyOutputSchema,
  ValidateKeyOutputSchema,
} from '../../schemas/keys.js';
import { ProviderSchema, RefIdSchema } from '../../schemas/common.js';
import { createConnectToken } from '../../domain/connect-tokens.js';
import { keyHealth } from '../../domain/key-health.js';
import { lowerOwnerLimits } from '../../domain/owner-limits.js';
import { connectKey, getKey, listKeys, revokeKey } from '../../domain/provider-keys.js';
import { validateKey } from '../../domain/provider-key-validation.js';
import { allowConnectOrigin, enforceConnectPolicy } from '../connect-policy.js';
import { idempotent } from '../idempotent.js';
import { publishableProcedure, router, secretProcedure } from '../init.js';

const TAGS = ['Keys'];

export const keysRouter = router({
  connect: publishableProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/keys/connect',
        tags: TAGS,
        summary: "Store or replace a customer's provider key",
        description:
          "Callable with a publishable key (from the browser) or a secret key. A publishable key without a connect token may only make the first connection for a refId and may only set a base URL on the project's allowed hosts.",
        errorResponses: {
          400: 'Invalid input',
          401: 'Bad API key',
          403: 'Origin or key not allowed',
          409: 'A key exists (publishable key without token), or the first request with this `Idempotency-Key` is still running (`idempotency_in_progress`, retry after `Retry-After`)',
          422: 'The provider rejected the key (`key_invalid`), or the `Idempotency-Key` was used with another request (`idempotency_conflict`)',
          429: 'Rate limited',
        },
      },
    })
    .use(({ ctx, next }) => {
      allowConnectOrigin(ctx);
      return next();
    })
    .input(ConnectKeyInputSchema)
    // After the input: bad input is a 400 that consumes no rate limit.
    .use(async ({ ctx, next }) => {
      await enforceConnectPolicy(ctx);
      return next();
    })
    .output(ConnectKeyOutputSchema)
    .mutation(({ ctx, input }) => {
      const { key } = ctx;
      const publishable = key.principal.kind === 'pk';
      const run = () =>
        connectKey(ctx.services, key, key.actor, {
          provider: input.provider,
          refId: input.refId,
          providerKey: input.providerKey,
          providerConfig: input.providerConfig,
          connectToken: input.connectToken,
          limits: input.limits,
          publishable,
        });
      if (publishable) return run();
      // The stored response never holds the provider key, only its hint; the stored request hash
      // is an HMAC under a key sealed by a master key (withIdempotency), so a dump cannot confirm a guess.
      return idempotent(ctx, 'keys.connect', input, run);
    }),

  validate: secretProcedure
    .meta({ openapi: { method: 'POST', path: '/keys/validate', tags: TAGS, summary: 'Check a stored key with its provider' } })
    .input(KeyRefInputSchema)
    .output(ValidateKeyOutputSchema)
    .mutation(({ ctx, input }) => validateKey(ctx.services, ctx.key, ctx.key.actor, input.provider, input.refId)),

  revoke: secretProcedure
    .meta({ openapi: { method: 'POST', path: '/keys/revoke', tags: TAGS, summary: 'Destroy a stored key (metadata is kept)' } })
    .input(KeyRefInputSchema)
    .output(RevokeKeyOutputSchema)
    .mutation(({ ctx, input }) =>
      idempotent(ctx, 'keys.revoke', input, () => revokeKey(ctx.services, ctx.key, ctx.key.actor, input.provider, input.refId)),
    ),

  list: secretProcedure
    .meta({ openapi: { method: 'GET', path: '/keys', tags: TAGS, summary: 'List stored keys (metadata only)' } })
    .input(ListKeysInputSchema)
    .output(ListKeysOutputSchema)
    .query(({ ctx, input }) => listKeys(ctx.services, ctx.key, input)),

  health: secretProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/keys/health',
        tags: TAGS,
        summary: 'Keys by status and by their last check, and the failing keys with the reason',
        description: 'Scheduled checks (docs/key-health.md) keep `lastValidation` current; this sums it up for an operator.',
      },
    })
    .input(KeyHealthInputSchema)
    .output(KeyHealthOutputSchema)
    .query(({ ctx, input }) => keyHealth(ctx.services, ctx.key, input)),

  get: secretProcedure
    .meta({ openapi: { method: 'GET', path: '/keys/{provider}/{refId}', tags: TAGS, summary: "A stored key's metadata" } })
    .input(z.strictObject({ provider: ProviderSchema, refId: RefIdSchema }))
    .output(KeyMetadataSchema)
    .query(({ ctx, input }) => getKey(ctx.services, ctx.key, input.provider, input.refId)),

  lowerLimits: secretProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/keys/{provider}/{refId}/limits',
        tags: TAGS,
        summary: "Lower a key owner's cap",
        description:
          "Replaces the cap the customer gave at connect with a stricter one: every current limit must stay (same metric and window) with a `max` no higher; limits may be added. Raising or removing is refused (`owner_limit_locked`): only a new connect by the key's owner does that.",
        errorResponses: {
          400: 'Invalid limits',
          403: 'The new limits would raise or remove part of the cap (`owner_limit_locked`)',
          404: 'No such key',
        },
      },
    })
    .input(LowerKeyLimitsInputSchema)
    .output(KeyMetadataSchema)
    .mutation(({ ctx, input }) => lowerOwnerLimits(ctx.services, ctx.key, ctx.key.actor, input.provider, input.refId, input.limits)),
});

export const connectTokensRouter = router({
  create: secretProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/connect-tokens',
        tags: ['Connect tokens'],
        summary: 'Create a short-lived, single-use token a browser passes with the publishable key',
      },
    })
    .input(CreateConnectTokenInputSchema)
    .output(ConnectTokenOutputSchema)
    .mutation(({ ctx, input }) =>
      // The token is a credential: the stored copy keeps it sealed.
      idempotent(ctx, 'connectTokens.create', input, () => createConnectToken(ctx.services, ctx.key, ctx.key.actor, input), ['token']),
    ),
});
