import type { ProviderName } from '../db/schema.js';

/**
 * Error bodies in each provider's own wire shape, so the provider's official SDK raises a
 * readable, typed error (`APIError` with `status`, `message`, `code`/`type`) for an error
 * that BYO produced. BYO's own `code` is carried where each shape has room for it.
 */

export interface ShapedError {
  status: number;
  message: string;
  /** BYO's error code (or the provider's, for sandbox answers). */
  code: string;
  /** Overrides the provider `type` / `status` derived from the HTTP status. */
  type?: string;
  requestId?: string;
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'invalid_request_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** google.rpc.Code names, as the Gemini API puts them in `error.status`. */
const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'FAILED_PRECONDITION',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function providerErrorBody(provider: ProviderName, e: ShapedError): Record<string, unknown> {
  switch (provider) {
    case 'anthropic': {
      const body: Record<string, unknown> = {
        type: 'error',
        error: { type: e.type ?? ANTHROPIC_TYPES[e.status] ?? 'api_error', message: e.message, code: e.code },
      };
      if (e.requestId) body.request_id = e.requestId;
      return body;
    }
    case 'google': {
      const details: Record<string, unknown>[] = [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: e.code,
          domain: 'byo',
          ...(e.requestId ? { metadata: { requestId: e.requestId } } : {}),
        },
      ];
      return { error: { code: e.status, message: e.message, status: e.type ?? GOOGLE_STATUS[e.status] ?? 'UNKNOWN', details } };
    }
    default: {
      const body: Record<string, unknown> = {
        error: { message: e.message, type: e.type ?? OPENAI_TYPES[e.status] ?? 'api_error', param: null, code: e.code },
      };
      if (e.requestId) (body.error as Record<string, unknown>).request_id = e.requestId;
      return body;
    }
  }
}
