import type { ShapedError } from './shaped-error.js';

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

/** The Gemini API's error body (a google.rpc.Status with an ErrorInfo carrying BYO's code). */
export function googleErrorBody(e: ShapedError): Record<string, unknown> {
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
