import { z } from 'zod';
import { masterKeyStatus, rotateBatch } from '../../domain/master-keys.js';
import { RotateBatchInputSchema, RotateBatchOutputSchema, SecretsStatusSchema } from '../../schemas/secrets.js';
import { adminProcedure, router } from '../init.js';

const TAGS = ['Admin: secrets'];

/** Master-key rotation, driven by `byo secrets rotate-master-key`. */
export const secretsRouter = router({
  status: adminProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/secrets/status',
        tags: TAGS,
        summary: 'Rows per master key id; a key with zero rows may leave the keyring',
      },
    })
    .input(z.strictObject({}).optional())
    .output(SecretsStatusSchema)
    .query(({ ctx }) => masterKeyStatus(ctx.services)),
  rotateBatch: adminProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/secrets/rotate-batch',
        tags: TAGS,
        summary: 'Re-wrap a batch of data keys under the active master key',
        description:
          'Online and idempotent: rows are claimed with FOR UPDATE SKIP LOCKED, only the data key is re-wrapped (the ciphertext is untouched). Call again with `after: next` until `next` is null; `remaining` counts rows not yet on the active key.',
      },
    })
    .input(RotateBatchInputSchema)
    .output(RotateBatchOutputSchema)
    .mutation(({ ctx, input }) => rotateBatch(ctx.services, ctx.actor, input)),
});
