/**
 * Errors. `instanceof` is the tool: every error the SDK throws is a `BYOKError`; HTTP errors
 * from BYO get one subclass per status family, errors a provider returned are `ProviderError`.
 */

import type { components } from '../generated/openapi.js';

export type ErrorSource = 'byo' | 'provider';

/** The body of every error BYO's REST API sends (the OpenAPI document's `Error` schema). */
export type APIErrorBody = components['schemas']['Error'];
/** BYO's own error codes (`key_not_found`, `idempotency_conflict`, ...): the values `error.code` takes when BYO produced the error. */
export type BYOErrorCode = APIErrorBody['code'];

export interface ErrorInit {
  statusCode?: number | undefined;
  code?: string | undefined;
  requestId?: string | undefined;
  headers?: Headers | undefined;
  body?: unknown;
  cause?: unknown;
}

export class BYOKError extends Error {
  /** HTTP status, when the error came from an HTTP response. */
  readonly statusCode: number | undefined;
  /** Stable machine-readable code, e.g. `key_not_found` (BYO) or the provider's error code/type. */
  readonly code: string | undefined;
  /** BYO's request id (`x-byo-request-id`): quote it when asking for help. */
  readonly requestId: string | undefined;
  /** Response headers, when there was a response. */
  readonly headers: Headers | undefined;
  /** The parsed response body, when there was one. */
  readonly body: unknown;

  constructor(message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.requestId = init.requestId;
    this.headers = init.headers;
    this.body = init.body;
  }
}

/** 400, 413, 415: the request was invalid (bad input, too large, wrong content type). */
export class ValidationError extends BYOKError {
  /** Per-field problems, when BYO reported them. */
  readonly issues: { path?: string; message: string }[] | undefined;
  constructor(message: string, init: ErrorInit & { issues?: { path?: string; message: string }[] | undefined } = {}) {
    super(message, init);
    this.issues = init.issues;
  }
}
/**
 * 422: the request was well formed but refused: the provider rejected the key being connected
 * (`key_invalid`), or an `Idempotency-Key` was reused with another body (`idempotency_conflict`).
 * Not a `ValidationError`, so a rejected key is told from bad input by `instanceof`; `code` says which.
 */
export class UnprocessableEntityError extends BYOKError {}
/** 401: the BYO secret key is wrong, unknown, revoked or expired. */
export class AuthenticationError extends BYOKError {}
/** 403: the key may not do this (e.g. a publishable key). */
export class PermissionDeniedError extends BYOKError {}
/** 404: no such key, route or resource. */
export class NotFoundError extends BYOKError {}
/** 409: a state conflict, e.g. the stored key is revoked or disabled (`key_revoked`, `key_disabled`), or `idempotency_in_progress` after the retries. */
export class ConflictError extends BYOKError {}
/** 429: rate limited by BYO. `retryAfter` is in seconds, when the server said. */
export class RateLimitError extends BYOKError {
  readonly retryAfter: number | undefined;
  constructor(message: string, init: ErrorInit & { retryAfter?: number | undefined } = {}) {
    super(message, init);
    this.retryAfter = init.retryAfter;
  }
}
/** 5xx from BYO itself (`internal_error`, `upstream_unreachable` 502, `upstream_timeout` 504, ...). */
export class InternalServerError extends BYOKError {}

/** An error the AI provider returned (passed through by the proxy), with its status and body. */
export class ProviderError extends BYOKError {
  /** Which provider answered. */
  readonly provider: string;
  /** Seconds, from the provider's `retry-after`, when present. */
  readonly retryAfter: number | undefined;
  constructor(message: string, init: ErrorInit & { provider: string; retryAfter?: number | undefined }) {
    super(message, init);
    this.provider = init.provider;
    this.retryAfter = init.retryAfter;
  }
}

/** The request never got an HTTP response (DNS, refused, reset, or the stream broke). */
export class APIConnectionError extends BYOKError {
  constructor(message = 'Connection error.', init: ErrorInit = {}) {
    super(message, init);
  }
}
/** No response within `timeout` milliseconds. */
export class TimeoutError extends APIConnectionError {
  constructor(message = 'Request timed out.', init: ErrorInit = {}) {
    super(message, init);
  }
}
/** The caller aborted the request with its `AbortSignal`. */
export class APIUserAbortError extends BYOKError {
  constructor(message = 'Request was aborted.', init: ErrorInit = {}) {
    super(message, init);
  }
}

/** Why a webhook failed verification: `WebhookVerificationError`'s `code`. */
export type WebhookVerificationErrorCode =
  /** No signature headers at all. */
  | 'signature_headers_missing'
  /** Only the body-only `X-BYO-Signature`, which a replay carries too; see `allowBodyOnlySignature`. */
  | 'body_only_signature'
  /** A signature header is present but malformed. */
  | 'invalid_signature_header'
  /** No signature was made with the given secret over this body. */
  | 'signature_mismatch'
  /** `webhook-timestamp` is older than the tolerance (a replay, or a wrong clock). */
  | 'timestamp_too_old'
  /** `webhook-timestamp` is ahead of this machine's clock by more than the tolerance. */
  | 'timestamp_in_future'
  /** The body or secret argument is unusable, or the body is not a BYO event. */
  | 'invalid_argument'
  | 'invalid_event';

/** A webhook failed verification; `code` says why and the message says what to fix. */
export class WebhookVerificationError extends BYOKError {
  declare readonly code: WebhookVerificationErrorCode | undefined;
}
