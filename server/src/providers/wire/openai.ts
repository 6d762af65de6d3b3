import type { ShapedError } from './shaped-error.js';

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

/** The OpenAI API's error body (also spoken by the OpenAI-compatible providers). */
export function openaiErrorBody(e: ShapedError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    error: { message: e.message, type: e.type ?? OPENAI_TYPES[e.status] ?? 'api_error', param: null, code: e.code },
  };
  if (e.requestId) (body.error as Record<string, unknown>).request_id = e.requestId;
  return body;
}
