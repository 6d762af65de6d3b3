/**
 * One table maps each domain error code to its HTTP status. Both tRPC and REST
 * (and the proxy) render these with the same `{ code, message, requestId }` body.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  missing_ref_id: 400,
  invalid_base_url: 400,
  invalid_credential: 400,
  path_mismatch: 400,
  unsupported_media_type: 415,
  unauthorized: 401,
  api_key_expired: 401,
  connect_token_invalid: 401,
  session_expired: 401,
  permission_denied: 403,
  origin_not_allowed: 403,
  connect_token_mismatch: 403,
  csrf_failed: 403,
  owner_limit_locked: 403,
  not_found: 404,
  key_not_found: 404,
  project_not_found: 404,
  api_key_not_found: 404,
  endpoint_not_found: 404,
  delivery_not_found: 404,
  conflict: 409,
  key_exists: 409,
  key_revoked: 409,
  key_disabled: 409,
  idempotency_conflict: 422,
  idempotency_in_progress: 409,
  endpoint_disabled: 409,
  delivery_in_progress: 409,
  endpoint_limit_reached: 409,
  request_timeout: 408,
  payload_too_large: 413,
  key_invalid: 422,
  rate_limited: 429,
  concurrency_limited: 429,
  limit_exceeded: 429,
  headers_too_large: 431,
  internal_error: 500,
  upstream_unreachable: 502,
  database_unavailable: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorIssue {
  path: string;
  message: string;
}

export class BYOError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly issues: ErrorIssue[] | undefined;
  constructor(code: ErrorCode, message: string, opts: { retryAfter?: number; issues?: ErrorIssue[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BYOError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.retryAfter = opts.retryAfter;
    this.issues = opts.issues;
  }
}

/** The single 401 every kind of bad key gets: wrong, unknown, malformed, revoked. */
export const unauthorized = () =>
  new BYOError(
    'unauthorized',
    'Invalid or missing API key. Pass a BYO key as "Authorization: Bearer byo_sk_..." (your backend) or "Authorization: Bearer byo_pk_..." (a browser connecting a key).',
  );

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  issues?: ErrorIssue[];
}

export function errorBody(err: BYOError, requestId: string): ErrorBody {
  const body: ErrorBody = { code: err.code, message: err.message, requestId };
  if (err.issues) body.issues = err.issues;
  return body;
}

/** Postgres/pglite connection failures become 503 database_unavailable. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: string; message?: string };
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003'].includes(e.code))
    return true;
  const m = e.message ?? '';
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|Query read timeout|Client was closed and is not queryable/.test(
    m,
  );
}

/**
 * PostgreSQL class 22 (data exception): a value the database cannot store or compare, such as
 * a NUL character in text (22021) or an out-of-range date (22008). That is the caller's input,
 * not a server fault: 400, not 500.
 */
export function isInvalidDataValue(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

export function toBYOError(err: unknown): BYOError {
  if (err instanceof BYOError) return err;
  if (isDatabaseUnavailable(err))
    return new BYOError('database_unavailable', 'The database is unavailable. Try again shortly.', { retryAfter: 2 });
  if (isInvalidDataValue(err))
    return new BYOError('validation_failed', 'A value in the request cannot be stored or searched (for example a NUL character).');
  return new BYOError('internal_error', 'Internal error. The request id identifies it in the server logs.');
}
