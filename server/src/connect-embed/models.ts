import { z } from 'zod';
import type { App } from '../app.js';
import { BYOError } from '../errors.js';
import { RefIdSchema } from '../schemas/common.js';

/**
 * `GET /connect/embed/models`: how many models the key the form just connected unlocks, so the
 * form can say so once the listing that follows the connect is read (key-health/). The
 * publishable key cannot read keys (`GET /v1/keys` is the secret key's), so this answers the
 * least it can: a count, never the ids, for one key named by its id (random, 128 bits) and its
 * refId, of the publishable key's project and mode, and only for a short while after that key
 * was connected or replaced. No CORS header: only the form's own page (same origin) reads it.
 */

export const MODELS_PATH = '/connect/embed/models';

/** The form polls for a few seconds after its connect; past this, the key is not "just connected". */
export const JUST_CONNECTED_MS = 2 * 60_000;

const QuerySchema = z.object({
  keyId: z.string().regex(/^key_[A-Za-z0-9]{1,64}$/, 'keyId must be a key id (key_...)'),
  refId: RefIdSchema,
});

export function modelsCount(app: App): void {
  const { fastify, services } = app;
  fastify.get(MODELS_PATH, async (request, reply) => {
    void reply.header('cache-control', 'no-store').header('cross-origin-resource-policy', 'same-origin');
    const parsed = QuerySchema.safeParse(request.query);
    if (!parsed.success) throw new BYOError('validation_failed', parsed.error.issues[0]?.message ?? 'keyId and refId are required.');
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token?.startsWith('byo_pk_'))
      throw new BYOError(
        'permission_denied',
        'Only the connect form calls this, with its publishable key; a secret key reads GET /v1/keys.',
      );
    const principal = await services.auth.authenticateKey(token);
    if (principal.kind !== 'pk') throw new BYOError('permission_denied', 'Only a publishable key may call this.');

    const { keyId, refId } = parsed.data;
    const row = await services.db
      .selectFrom('provider_keys')
      .select(['status', 'models', 'last_validated_at', 'updated_at'])
      .where('id', '=', keyId)
      .where('project_id', '=', principal.projectId)
      .where('mode', '=', principal.mode)
      .where('ref_id', '=', refId)
      .executeTakeFirst();
    // One answer for a key that is not there, another project's, another refId's, no longer
    // active, or connected too long ago.
    if (row?.status !== 'active' || row.updated_at.getTime() < Date.now() - JUST_CONNECTED_MS)
      throw new BYOError('key_not_found', `No key ${keyId} was connected for refId "${refId}" in the last few minutes.`);

    const models = Array.isArray(row.models) ? row.models.length : null;
    // Still worth asking again: not listed, and not checked since the connect (a check that
    // listed nothing means the provider's probe is not a listing, or it could not be reached).
    const checkedSince = row.last_validated_at !== null && row.last_validated_at > row.updated_at;
    const pending = models === null && services.config.BYO_KEY_HEALTH_INTERVAL > 0 && !checkedSince;
    return { models, pending };
  });
}
