import { z } from 'zod';
import { ConnectTokenOutputSchema, CreateConnectTokenInputSchema } from '../../schemas/connect-tokens.js';
import {
  ConnectKeyInputSchema,
  ConnectKeyOutputSchema,
  KeyMetadataSchema,
  KeyRefInputSchema,
  ListKeysInputSchema,
  ListKeysOutputSchema,
  RevokeKeyOutputSchema,
  ValidateKeyOutputSchema,
} from '../../schemas/keys.js';
import { ProviderSchema, RefIdSchema } from '../../schemas/common.js';
import { createConnectToken } from '../../domain/connect-tokens.js';
import { connectKey, getKey, listKeys, revokeKey, validateKey } from '../../domain/provider-keys.js';
import { BYOError } from '../../errors.js';
import { openToAnyOrigin, originAllowed } from '../../domain/origins.js';
import { isServerOrigin } from '../../domain/server-origin.js';
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
    .input(ConnectKeyInputSchema)
    .output(ConnectKeyOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const { key } = ctx;
      const publishable = key.principal.kind === 'pk';
      if (publishable) {
        // The hosted connect form (/connect/embed) calls this route same-origin, so its Origin
        // is this server's own public origin (BYO_PUBLIC_URL or the listening address). That
        // page enforces the project's allowed origins itself (frame-ancestors, verified parent
        // origin for postMessage), so the server's own origin is accepted here.
        if (ctx.origin && !originAllowed(key.project.allowed_origins, key.mode, ctx.origin) && !isServerOrigin(ctx.services, ctx.origin)) {
          throw new BYOError('origin_not_allowed', `Origin ${ctx.origin} is not in this project's allowed origins.`);
        }
        // WEB-1: a publishable key is for browsers, which always send Origin on this POST. Where
        // origins are enforced, a request without one (a script holding a copied pk) is refused;
        // an abuse filter, not authentication. Only a test-mode project with no allowed origins
        // is open to any caller (the quickstart's curl).
        if (!ctx.origin && !openToAnyOrigin(key.project.allowed_origins, key.mode)) {
          throw new BYOError(
            'origin_not_allowed',
            "A publishable key can connect keys only from a web page on one of the project's allowed origins (the request had no Origin header). From a server, use your secret key.",
          );
        }
        if (ctx.origin) {
          ctx.setResponseHeader('access-control-allow-origin', ctx.origin);
          ctx.setResponseHeader('vary', 'Origin');
        }
        await ctx.services.rateLimits.consumeConnect(key.principal.keyId, ctx.ip);
      }
      const run = () =>
        connectKey(ctx.services, key, key.actor, {
          provider: input.provider,
          refId: input.refId,
          providerKey: input.providerKey,
          providerConfig: input.providerConfig,
          connectToken: input.connectToken,
          publishable,
        });
      if (publishable) return run();
      await ctx.services.rateLimits.consumeSecretConnect(key.principal.keyId);
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

  get: secretProcedure
    .meta({ openapi: { method: 'GET', path: '/keys/{provider}/{refId}', tags: TAGS, summary: "A stored key's metadata" } })
    .input(z.strictObject({ provider: ProviderSchema, refId: RefIdSchema }))
    .output(KeyMetadataSchema)
    .query(({ ctx, input }) => getKey(ctx.services, ctx.key, input.provider, input.refId)),
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
