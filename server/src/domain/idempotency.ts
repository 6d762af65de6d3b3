import { createHmac, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Database, Mode } from '../db/schema.js';
import { BYOError } from '../errors.js';
import type { Keyring, MasterKey } from '../vault/keyring.js';
import type { Sealed, Vault } from '../vault/vault.js';

/** Vault kind of a secret inside a stored response (a `whsec_` secret, a connect token). */
export const IDEMPOTENCY_SECRET_KIND = 'idempotency_response';
/** Vault kind of the random key of a row's `request_hash` (see hashKeyFor). */
export const IDEMPOTENCY_HASH_KIND = 'idempotency_request_hash';

type Scope = { projectId: string; mode: Mode };
/** The vault context of a row's hash key: the row itself. */
export const hashKeyContext = (scope: Scope, key: string) => [scope.projectId, scope.mode, key];

export interface IdempotencyOptions {
  /** Its keyring keys the stored request hash; it seals `secretFields`. */
  vault: Vault;
  /**
   * Top-level response fields holding a secret shown once (`secret`, `token`): stored sealed
   * with the vault (never in plaintext), opened again for a replay.
   */
  secretFields?: readonly string[];
}

export interface SealedField {
  $sealed: 1;
  ciphertext: string;
  wrappedKey: string;
  masterKeyId: string;
}

/** How long a stored response is replayed. */
export const IDEMPOTENCY_TTL_MS = 86_400_000;
/**
 * How long an `in_progress` claim holds its key. A request that crashed (or whose server died)
 * never completes or releases its claim: after this lease another request with the key runs.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/**
 * `Idempotency-Key` on secret-key writes, as Stripe does it:
 *
 * - The first request claims the key atomically: one `insert ... on conflict do update ... where`
 *   writes an `in_progress` row (or takes over an expired one), so of two simultaneous requests
 *   exactly one runs the operation.
 * - Another request with the key while it runs: 409 `idempotency_in_progress`, `Retry-After: 1`.
 * - Success: the response is stored (`completed`) and replayed for 24 h to a retry with the same
 *   key and body. Another body, or another operation, with the same key: 422 `idempotency_conflict`.
 * - Failure: nothing is stored, for 4xx and 5xx alike (only successful responses are kept, as
 *   before claims existed): the claim is released and a retry with the key runs the operation again.
 * - A claim older than {@link IDEMPOTENCY_LEASE_MS} (its request crashed) can be taken over.
 */
export async function withIdempotency<T>(
  db: Kysely<Database>,
  scope: Scope,
  key: string | null,
  operation: string,
  input: unknown,
  run: () => Promise<T>,
  opts: IdempotencyOptions,
): Promise<T> {
  if (!key) return run();
  if (key.length > 255) throw new BYOError('validation_failed', 'Idempotency-Key must be at most 255 characters.');
  const hashKey = randomBytes(32);
  const requestHash = hmacRequest(hashKey, operation, input);
  const sealedHashKey = opts.vault.seal(IDEMPOTENCY_HASH_KIND, hashKeyContext(scope, key), hashKey.toString('base64'));
  const claimId = randomUUID();
  // This key's row, in the select, the update and the delete below.
  const thisKey = (eb: ExpressionBuilder<Database, 'idempotency_keys'>) =>
    eb.and([eb('project_id', '=', scope.projectId), eb('mode', '=', scope.mode), eb('key', '=', key)]);

  // A released claim can vanish between the claim attempt and the read: try again (bounded).
  for (let attempt = 0; ; attempt++) {
    const claimed = await claim(db, scope, key, operation, { hash: requestHash, sealedKey: sealedHashKey }, claimId);
    if (claimed) break;
    const prior = await db
      .selectFrom('idempotency_keys')
      .where(thisKey)
      .select(['request_hash', 'response', 'status', 'hash_key_ciphertext', 'hash_key_wrapped', 'hash_master_key_id'])
      .executeTakeFirst();
    if (!prior) {
      if (attempt < 3) continue;
      throw inProgress();
    }
    if (!sameRequest(opts.vault, scope, key, prior, operation, input))
      throw new BYOError(
        'idempotency_conflict',
        'This Idempotency-Key was used with a different request. Use a new key for a new request.',
      );
    if (prior.status !== 'completed') throw inProgress();
    return opts.secretFields?.length ? openFields(opts, scope, key, prior.response as Record<string, unknown>) : (prior.response as T);
  }

  let result: T;
  try {
    result = await run();
  } catch (err) {
    // Errors are not stored: release the claim so a retry runs. If the database cannot be
    // reached now, the lease frees the key instead.
    await db
      .deleteFrom('idempotency_keys')
      .where(thisKey)
      .where('claim_id', '=', claimId)
      .execute()
      .catch(() => undefined);
    throw err;
  }
  const stored = opts.secretFields?.length ? sealFields(opts, scope, key, result as Record<string, unknown>) : result;
  try {
    // Only while the claim is still this request's: one taken over after the lease is the
    // other request's to complete.
    await db
      .updateTable('idempotency_keys')
      .where(thisKey)
      .set({ status: 'completed', claim_id: null, response: JSON.stringify(stored), created_at: sql<Date>`now()` })
      .where('claim_id', '=', claimId)
      .execute();
  } catch {
    // The operation happened: its result is the answer. The claim, left in progress, expires
    // with its lease.
  }
  return result;
}

const hmacRequest = (key: Buffer, operation: string, input: unknown) =>
  createHmac('sha256', key)
    .update(JSON.stringify([operation, input ?? null]))
    .digest('hex');

/**
 * Whether a stored row is this request's. `request_hash` is an HMAC-SHA256 of the operation and
 * its input: a plain hash would let anyone holding a database dump confirm a guessed input (for
 * `keys.connect`, the customer's provider key). Its key is random per row and stored sealed by
 * the vault (`hash_key_*`), so master-key rotation re-wraps it like any data key
 * (domain/idempotency-rewrap.ts) and a retry still matches after the old master key is retired.
 * A hash key that cannot be opened (its master key has left the keyring unrotated) matches
 * nothing: the retry is a conflict, never a second run.
 */
function sameRequest(
  vault: Vault,
  scope: Scope,
  key: string,
  prior: { request_hash: string; hash_key_ciphertext: Buffer | null; hash_key_wrapped: Buffer | null; hash_master_key_id: string | null },
  operation: string,
  input: unknown,
): boolean {
  if (!prior.hash_key_ciphertext || !prior.hash_key_wrapped || !prior.hash_master_key_id)
    return sameLegacyRequest(vault.keyring, prior.request_hash, operation, input);
  let hashKey: Buffer;
  try {
    hashKey = Buffer.from(
      vault.open(IDEMPOTENCY_HASH_KIND, hashKeyContext(scope, key), {
        ciphertext: prior.hash_key_ciphertext,
        wrappedKey: prior.hash_key_wrapped,
        masterKeyId: prior.hash_master_key_id,
      }),
      'base64',
    );
  } catch {
    throw unreadable();
  }
  const expected = Buffer.from(hmacRequest(hashKey, operation, input), 'hex');
  const stored = Buffer.from(prior.request_hash, 'hex');
  return stored.length === expected.length && timingSafeEqual(stored, expected);
}

/** HKDF `info` of the request-hash key that rows written before hash keys existed derived from a master key. */
const REQUEST_HASH_INFO = 'byo idempotency request hash v1';
const requestHashKeys = new WeakMap<MasterKey, Buffer>();

/**
 * A row written before per-row hash keys: its hash was keyed from the master key active then,
 * not recorded, so it is compared under every key of the keyring. Such rows expire within 24
 * hours of the upgrade; rotation cannot re-key them (the input is not stored).
 */
function sameLegacyRequest(keyring: Keyring, stored: string, operation: string, input: unknown): boolean {
  for (const id of keyring.ids()) {
    const mk = keyring.get(id);
    if (!mk) continue;
    let k = requestHashKeys.get(mk);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', mk.key, Buffer.alloc(0), REQUEST_HASH_INFO, 32));
      requestHashKeys.set(mk, k);
    }
    if (hmacRequest(k, operation, input) === stored) return true;
  }
  return false;
}

/**
 * One atomic statement: insert the key as `in_progress`, or take over its row when that row
 * no longer holds it (a response older than 24 h, a claim older than the lease). Returns whether
 * this request now holds the claim. Times are the database's, the same for every instance.
 */
async function claim(
  db: Kysely<Database>,
  scope: Scope,
  key: string,
  operation: string,
  requestHash: { hash: string; sealedKey: Sealed },
  claimId: string,
): Promise<boolean> {
  const values = {
    operation,
    request_hash: requestHash.hash,
    hash_key_ciphertext: requestHash.sealedKey.ciphertext,
    hash_key_wrapped: requestHash.sealedKey.wrappedKey,
    hash_master_key_id: requestHash.sealedKey.masterKeyId,
    response: null,
    status: 'in_progress' as const,
    claim_id: claimId,
    created_at: sql<Date>`now()`,
  };
  const t = 'idempotency_keys';
  const res = await db
    .insertInto('idempotency_keys')
    .values({ project_id: scope.projectId, mode: scope.mode, key, ...values })
    .onConflict((oc) =>
      oc
        .columns(['project_id', 'mode', 'key'])
        .doUpdateSet(values)
        .where((eb) =>
          eb.or([
            eb.and([
              eb(`${t}.status`, '=', 'completed'),
              eb(`${t}.created_at`, '<=', sql<Date>`now() - ${sql.lit(`${IDEMPOTENCY_TTL_MS} milliseconds`)}::interval`),
            ]),
            eb.and([
              eb(`${t}.status`, '<>', 'completed'),
              eb(`${t}.created_at`, '<=', sql<Date>`now() - ${sql.lit(`${IDEMPOTENCY_LEASE_MS} milliseconds`)}::interval`),
            ]),
          ]),
        ),
    )
    .returning('claim_id')
    .executeTakeFirst();
  return res?.claim_id === claimId;
}

const unreadable = () =>
  new BYOError('idempotency_conflict', 'The response stored for this Idempotency-Key can no longer be read. Use a new key.');

const inProgress = () =>
  new BYOError('idempotency_in_progress', 'Another request with this Idempotency-Key is in progress; retry after it completes.', {
    retryAfter: 1,
  });

/** The vault context of a secret field of a stored response. */
export const fieldContext = (scope: Scope, key: string, field: string) => [scope.projectId, scope.mode, key, field];

/** Whether a value of a stored response is a sealed secret (sealFields). */
export const isSealedField = (v: unknown): v is SealedField =>
  typeof v === 'object' && v !== null && (v as SealedField).$sealed === 1 && typeof (v as SealedField).masterKeyId === 'string';

function sealFields(opts: IdempotencyOptions, scope: Scope, key: string, result: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...result };
  for (const f of opts.secretFields ?? []) {
    const v = out[f];
    if (typeof v !== 'string') continue;
    const sealed = opts.vault.seal(IDEMPOTENCY_SECRET_KIND, fieldContext(scope, key, f), v);
    out[f] = {
      $sealed: 1,
      ciphertext: sealed.ciphertext.toString('base64'),
      wrappedKey: sealed.wrappedKey.toString('base64'),
      masterKeyId: sealed.masterKeyId,
    } satisfies SealedField;
  }
  return out;
}

function openFields<T>(opts: IdempotencyOptions, scope: Scope, key: string, stored: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...stored };
  for (const f of opts.secretFields ?? []) {
    const v = out[f];
    if (!isSealedField(v)) continue;
    try {
      out[f] = opts.vault.open(IDEMPOTENCY_SECRET_KIND, fieldContext(scope, key, f), {
        ciphertext: Buffer.from(v.ciphertext, 'base64'),
        wrappedKey: Buffer.from(v.wrappedKey, 'base64'),
        masterKeyId: v.masterKeyId,
      });
    } catch {
      // Its master key has left the keyring since: the response cannot be replayed.
      throw unreadable();
    }
  }
  return out as T;
}
