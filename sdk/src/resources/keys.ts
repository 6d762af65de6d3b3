import { ValidationError } from '../core/errors.js';
import { CursorPage, PagePromise } from '../core/pagination.js';
import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONBody, JSONResponse, QueryParams } from '../internal/openapi.js';

/** `POST /v1/keys/connect` body. */
export interface KeyConnectParams extends JSONBody<'keys-connect'> {}
/** Every provider id BYO speaks (generated from the server's provider registry). */
export type Provider = KeyConnectParams['provider'];
/** The result of a connect: the stored key's id, status and hint (never the key). */
export interface ConnectedKey extends JSONResponse<'keys-connect'> {}
/** Which stored key: a provider and your customer's refId. */
export interface KeyRef extends JSONBody<'keys-validate'> {}
/** A stored key's metadata (never the key material). */
export interface KeyMetadata extends JSONResponse<'keys-get'> {}
export interface KeyValidation extends JSONResponse<'keys-validate'> {}
export type KeyListParams = Omit<QueryParams<'keys-list'>, 'cursor'> & { cursor?: string | undefined };
export type KeyStatus = KeyMetadata['status'];
/** `PUT /v1/keys/{provider}/{refId}/limits`: the key and the stricter cap. */
export interface KeyLowerLimitsParams extends KeyRef {
  limits: JSONBody<'keys-lowerLimits'>['limits'];
}
/** A key owner's cap: what the customer allowed through this app (`limits` on connect and on the key). */
export type OwnerLimit = KeyLowerLimitsParams['limits'][number];

/**
 * `/v1/keys/{provider}/{refId}`, or a rejection: `.` and `..` are path segments the URL parser
 * resolves away (`/v1/keys/openai/..` is the list route), refused here as BYO refuses such a
 * refId everywhere.
 */
function keyPath(ref: KeyRef): string | Promise<never> {
  if (/^\.+$/.test(ref.refId))
    return Promise.reject(new ValidationError('refId must not be only dots.', { code: 'validation_failed', statusCode: 400 }));
  return `/v1/keys/${encodeURIComponent(ref.provider)}/${encodeURIComponent(ref.refId)}`;
}

/** Stored provider keys: connect, validate, revoke, read. */
export class Keys extends APIResource {
  /**
   * Stores (or replaces) a customer's provider key. Retries reuse one `Idempotency-Key`, so a
   * retried connect happens once.
   */
  connect(params: KeyConnectParams, options?: RequestOptions): Promise<ConnectedKey> {
    return this._transport.json({ method: 'POST', path: '/v1/keys/connect', body: params, idempotent: true }, options);
  }

  /**
   * Checks the stored key with its provider: `{ valid, result: 'valid' | 'invalid' | 'unknown', ... }`.
   * No `Idempotency-Key`: BYO does not honour one here (validating again is harmless).
   */
  validate(params: KeyRef, options?: RequestOptions): Promise<KeyValidation> {
    return this._transport.json({ method: 'POST', path: '/v1/keys/validate', body: params }, options);
  }

  /** Destroys the key material; the metadata stays, with status `revoked`. */
  revoke(params: KeyRef, options?: RequestOptions): Promise<KeyMetadata> {
    return this._transport.json({ method: 'POST', path: '/v1/keys/revoke', body: params, idempotent: true }, options);
  }

  /** One stored key's metadata; `NotFoundError` when there is none. */
  get(params: KeyRef, options?: RequestOptions): Promise<KeyMetadata> {
    const path = keyPath(params);
    return typeof path === 'string' ? this._transport.json({ method: 'GET', path }, options) : path;
  }

  /**
   * Lowers the key owner's cap (the `limits` the customer gave at connect). Every limit of the
   * cap must stay with a `max` no higher; raising or dropping one is refused with a
   * `PermissionDeniedError` (code `owner_limit_locked`): only a new connect by the owner does that.
   */
  lowerLimits(params: KeyLowerLimitsParams, options?: RequestOptions): Promise<KeyMetadata> {
    const path = keyPath(params);
    return typeof path === 'string'
      ? this._transport.json({ method: 'PUT', path: `${path}/limits`, body: { limits: params.limits } }, options)
      : path;
  }

  /**
   * Lists stored keys, newest first. `await` it for the first page (`data`, `nextCursor`),
   * or `for await (const key of byok.keys.list())` to walk every page.
   */
  list(params: KeyListParams = {}, options?: RequestOptions): PagePromise<KeyMetadata> {
    const fetchPage = async (cursor: string | undefined): Promise<CursorPage<KeyMetadata>> => {
      const res = await this._transport.json<JSONResponse<'keys-list'>>(
        { method: 'GET', path: '/v1/keys', query: { ...params, cursor } },
        options,
      );
      return new CursorPage(res.data, res.nextCursor, (next) => fetchPage(next));
    };
    return new PagePromise(() => fetchPage(params.cursor));
  }
}
