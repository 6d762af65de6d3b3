import type { Kysely } from 'kysely';
import { randomId } from '../auth/api-key-format.js';
import type { Database, Mode, ProviderName } from '../db/schema.js';
import { BYOError } from '../errors.js';
import { providerKeyHint } from '../providers/key-hint.js';
import { validateWithProvider, type ValidationOutcome } from '../providers/validate.js';
import type { OwnerLimit } from '../schemas/limits.js';
import type { Services } from '../services.js';
import { aadFor, PROVIDER_KEY_KIND } from '../vault/aad.js';
import { type Actor, audit, auditRow } from './audit.js';
import { consumeConnectToken } from './connect-tokens.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { emitEvent } from './events.js';
import { keyCacheId, type CachedProviderKey } from './provider-key-cache.js';
import { checkRequestedBase, prepareCredential, requestedBase } from './provider-config.js';
import { type HealthOutcome, keyView, storedOutcome } from './provider-key-view.js';
import { type KeyMeta, META_COLUMNS } from './provider-key-writes.js';
import type { Scope } from './scope.js';

export interface ConnectRequest {
  provider: ProviderName;
  refId: string;
  providerKey: string;
  /** `providerConfig` as given: checked against the provider's declared fields (provider-config.ts). */
  providerConfig?: Readonly<Record<string, string | undefined>> | undefined;
  connectToken?: string | undefined;
  /** The key owner's cap, stored with the key; absent, a replaced key keeps its cap, and `[]` removes it. */
  limits?: readonly OwnerLimit[] | undefined;
  /** true when the caller used a publishable key. */
  publishable: boolean;
}

/**
 * Stores or replaces a provider key. A publishable key
 * without a connect token may only make a first connection, and only to allowed base hosts.
 */
export async function connectKey(services: Services, scope: Scope, who: Actor, req: ConnectRequest) {
  const { db } = services;
  const spec = services.providers[req.provider];
  const requested = requestedBase(services, spec, req.providerConfig);
  // A signed provider's credential (Bedrock, Vertex) is checked whole before anything is spent.
  const prepared = prepareCredential(services, spec, scope.mode, req.providerKey, req.providerConfig);
  let tokenGrant: { allowBaseUrl: boolean } | null = null;
  if (req.connectToken) {
    tokenGrant = await consumeConnectToken(db, scope, req.connectToken, req);
  } else if (req.publishable && scope.project.publishable_connect === 'token_required') {
    throw new BYOError(
      'permission_denied',
      'This project requires a connect token for publishable-key connects. Create one with POST /v1/connect-tokens from your backend.',
    );
  }
  const pkWithoutToken = req.publishable && !tokenGrant;
  const baseUrl = requested
    ? await checkRequestedBase(services, requested, {
        publishable: req.publishable,
        tokenAllowsBaseUrl: tokenGrant?.allowBaseUrl ?? false,
        project: scope.project,
      })
    : null;

  // Fail fast before asking the provider; the write below re-checks atomically.
  if (pkWithoutToken && scope.project.validate_on_connect && (await findRow(db, scope, req.provider, req.refId))) throw keyExists();

  const hint = prepared?.hint ?? providerKeyHint(req.providerKey);
  let validation: ValidationOutcome | null = null;
  if (scope.project.validate_on_connect) {
    validation = await validateWithProvider(
      spec,
      scope.mode,
      req.providerKey,
      baseUrl,
      { ...services.agents, sandbox: services.config.BYO_SANDBOX, signing: services.signing },
      prepared?.settings ?? null,
    );
    if (validation.result === 'invalid') {
      await db.transaction().execute(async (trx) => {
        await emitEvent(trx, {
          projectId: scope.project.id,
          mode: scope.mode,
          type: 'key.validation_failed',
          data: { provider: req.provider, refId: req.refId, keyHint: hint, reason: validation?.reason ?? 'rejected' },
        });
        await audit(trx, who, {
          projectId: scope.project.id,
          mode: scope.mode,
          action: 'key.validation_failed',
          target: `${req.provider}:${req.refId}`,
        });
      });
      services.onEventsCommitted();
      throw new BYOError('key_invalid', `The provider rejected this ${req.provider} key. Check it and try again.`);
    }
  }

  // One statement per attempt (provider-key-writes.ts; concurrent connects share it): the upsert, its
  // outbox event and its audit row commit together. The data key is bound to the row id, so the
  // id must be known before sealing: a new refId gets a fresh id (one round trip); if the refId
  // already has a row, the upsert changes nothing, and the next attempt seals for that row's id.
  let id = randomId('key');
  let result: { row: KeyMeta; updated: boolean } | null = null;
  for (let attempt = 0; attempt < 4 && !result; attempt++) {
    const row = await services.keyWrites.write({
      id,
      projectId: scope.project.id,
      mode: scope.mode,
      provider: req.provider,
      refId: req.refId,
      hint,
      baseUrl,
      settings: prepared?.settings ?? null,
      ownerLimits: req.limits === undefined ? null : JSON.stringify(req.limits),
      sealed: services.vault.seal(
        PROVIDER_KEY_KIND,
        aadFor({ project_id: scope.project.id, mode: scope.mode, provider: req.provider, ref_id: req.refId, id }),
        req.providerKey,
      ),
      validatedAt: validation ? new Date() : null,
      validationResult: validation ? validation.result : null,
      firstOnly: pkWithoutToken,
      // `replaced` is added by the statement, which alone knows whether a row was there.
      event: { provider: req.provider, refId: req.refId, keyHint: hint, by: connectedBy(req, tokenGrant !== null) },
      audit: {
        ...auditRow(who, { projectId: scope.project.id, mode: scope.mode, action: 'key.connected' }),
        metadata: {
          provider: req.provider,
          refId: req.refId,
          via: req.publishable ? 'publishable' : 'secret',
          connectToken: Boolean(tokenGrant),
          ...(req.limits !== undefined ? { limits: req.limits } : {}),
        },
      },
    });
    if (row) {
      const { inserted, ...meta } = row;
      result = { row: meta, updated: !inserted };
      break;
    }
    const existing = await findRow(db, scope, req.provider, req.refId);
    if (pkWithoutToken && existing) throw keyExists();
    id = existing?.id ?? randomId('key');
  }
  if (!result) throw new BYOError('conflict', 'The key changed while it was being stored; try again.');
  if (result.updated) await services.keyCache.invalidate(keyCacheId(scope.project.id, scope.mode, req.provider, req.refId));
  // The proxy caches which keys have a cap: a new cap, or a replaced key's dropped one, must show.
  if (result.updated || req.limits !== undefined) await services.limits.invalidate({ projectId: scope.project.id, mode: scope.mode });
  services.onEventsCommitted();
  return {
    id: result.row.id,
    provider: result.row.provider,
    refId: result.row.ref_id,
    status: result.row.status,
    updated: result.updated,
    keyHint: hint,
  };
}

async function findRow(db: Kysely<Database>, scope: Scope, provider: ProviderName, refId: string) {
  return db
    .selectFrom('provider_keys')
    .select(['id', 'status'])
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode)
    .where('provider', '=', provider)
    .where('ref_id', '=', refId)
    .executeTakeFirst();
}

/** The kind of credential that made a connect, for the `key.connected` event (`by`). */
export type ConnectedBy = 'secret_key' | 'publishable_key' | 'connect_token';
const connectedBy = (req: ConnectRequest, withToken: boolean): ConnectedBy =>
  withToken ? 'connect_token' : req.publishable ? 'publishable_key' : 'secret_key';

// Any row counts, whatever its status: a refId whose key was revoked, disabled or replaced is
// not a first connection, or a pk holder could take a customer's refId over once its key failed.
const keyExists = () =>
  new BYOError(
    'key_exists',
    'This refId and provider already had a key (active, disabled or revoked). A publishable key may only make the first connection: to connect again, get a connect token from your backend (POST /v1/connect-tokens) and pass it as connectToken.',
  );

export async function findMeta(db: Kysely<Database>, scope: Scope, provider: ProviderName, refId: string): Promise<KeyMeta> {
  const row = await db
    .selectFrom('provider_keys')
    .select(META_COLUMNS)
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode)
    .where('provider', '=', provider)
    .where('ref_id', '=', refId)
    .executeTakeFirst();
  if (!row) throw new BYOError('key_not_found', `No ${provider} key is connected for refId "${refId}".`);
  return row;
}

export async function getKey(services: Services, scope: Scope, provider: ProviderName, refId: string) {
  return keyView(await findMeta(services.db, scope, provider, refId));
}

export async function listKeys(
  services: Services,
  scope: Scope,
  q: {
    refId?: string | undefined;
    provider?: ProviderName | undefined;
    status?: string | undefined;
    lastOutcome?: HealthOutcome | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  let query = services.db
    .selectFrom('provider_keys')
    .select(META_COLUMNS)
    .where('project_id', '=', scope.project.id)
    .where('mode', '=', scope.mode);
  if (q.refId) query = query.where('ref_id', '=', q.refId);
  if (q.provider) query = query.where('provider', '=', q.provider);
  if (q.status) query = query.where('status', '=', q.status as 'active');
  if (q.lastOutcome) query = query.where('last_validation_result', '=', storedOutcome(q.lastOutcome));
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where((eb) => eb.or([eb('created_at', '<', c.t), eb.and([eb('created_at', '=', c.t), eb('id', '<', c.id)])]));
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(keyView),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

/** Destroys the key material, keeps the metadata; idempotent. */
export async function revokeKey(services: Services, scope: Scope, who: Actor, provider: ProviderName, refId: string) {
  const row = await services.db.transaction().execute(async (trx) => {
    const current = await findMeta(trx, scope, provider, refId);
    if (current.status === 'revoked') return current;
    const updated = await trx
      .updateTable('provider_keys')
      .set({
        status: 'revoked',
        ciphertext: null,
        wrapped_key: null,
        master_key_id: null,
        status_reason: 'revoked',
        updated_at: new Date(),
      })
      .where('id', '=', current.id)
      .returning(META_COLUMNS)
      .executeTakeFirstOrThrow();
    await emitEvent(trx, {
      projectId: scope.project.id,
      mode: scope.mode,
      type: 'key.revoked',
      data: { provider, refId, keyHint: current.key_hint },
    });
    await audit(trx, who, {
      projectId: scope.project.id,
      mode: scope.mode,
      action: 'key.revoked',
      target: current.id,
      metadata: { provider, refId },
    });
    return updated;
  });
  await services.keyCache.invalidate(keyCacheId(scope.project.id, scope.mode, provider, refId));
  services.onEventsCommitted();
  return keyView(row);
}

/** The stored version of a key that was used: its row id and ciphertext (see CachedProviderKey.version). */
export interface KeyVersion {
  id: string;
  version: Buffer;
}

/**
 * Marks a key disabled (the provider rejected it) and emits `key.disabled` once: only the
 * transition from active writes the event. Only the version that was used is disabled: if the
 * key was replaced (new ciphertext) or its row changed since, nothing happens.
 */
export async function disableKey(
  services: Services,
  ref: { projectId: string; mode: Mode; provider: ProviderName; refId: string },
  used: KeyVersion,
  who: Actor,
  reason: string,
): Promise<boolean> {
  const changed = await services.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('provider_keys')
      .set({ status: 'disabled', status_reason: reason, updated_at: new Date() })
      .where('id', '=', used.id)
      .where('ciphertext', '=', used.version)
      .where('project_id', '=', ref.projectId)
      .where('mode', '=', ref.mode)
      .where('provider', '=', ref.provider)
      .where('ref_id', '=', ref.refId)
      .where('status', '=', 'active')
      .returning(['id', 'key_hint'])
      .executeTakeFirst();
    if (!row) return false;
    await emitEvent(trx, {
      projectId: ref.projectId,
      mode: ref.mode,
      type: 'key.disabled',
      data: { provider: ref.provider, refId: ref.refId, keyHint: row.key_hint, reason },
    });
    await audit(trx, who, { projectId: ref.projectId, mode: ref.mode, action: 'key.disabled', target: row.id, metadata: { reason } });
    return true;
  });
  if (!changed) return false; // already disabled, revoked or replaced: whatever changed it invalidated the caches
  await services.keyCache.invalidate(keyCacheId(ref.projectId, ref.mode, ref.provider, ref.refId));
  services.onEventsCommitted();
  return true;
}

/** Decrypts a stored key for the proxy; the caller caches the result. */
export async function loadProviderKey(
  services: Services,
  ref: { projectId: string; mode: Mode; provider: ProviderName; refId: string },
): Promise<CachedProviderKey | null> {
  const row = await services.db
    .selectFrom('provider_keys')
    .select([
      'id',
      'project_id',
      'mode',
      'provider',
      'ref_id',
      'status',
      'key_hint',
      'base_url',
      'provider_config',
      'ciphertext',
      'wrapped_key',
      'master_key_id',
    ])
    .where('project_id', '=', ref.projectId)
    .where('mode', '=', ref.mode)
    .where('provider', '=', ref.provider)
    .where('ref_id', '=', ref.refId)
    .executeTakeFirst();
  if (!row) return null;
  let key: string | null = null;
  if (row.status === 'active' && row.ciphertext && row.wrapped_key && row.master_key_id) {
    key = services.vault.open(PROVIDER_KEY_KIND, aadFor(row), {
      ciphertext: row.ciphertext,
      wrappedKey: row.wrapped_key,
      masterKeyId: row.master_key_id,
    });
  }
  return {
    id: row.id,
    status: row.status,
    key,
    baseUrl: row.base_url,
    settings: row.provider_config,
    keyHint: row.key_hint,
    version: key ? row.ciphertext : null,
  };
}
