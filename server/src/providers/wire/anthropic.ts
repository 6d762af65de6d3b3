import type { ShapedError } from './shaped-error.js';

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

/** The Anthropic API's error body. */
export function anthropicErrorBody(e: ShapedError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    type: 'error',
    error: { type: e.type ?? ANTHROPIC_TYPES[e.status] ?? 'api_error', message: e.message, code: e.code },
  };
  if (e.requestId) body.request_id = e.requestId;
  return body;
}
