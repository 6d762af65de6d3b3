import type { ShapedError } from './shaped-error.js';

/** AWS error types the AWS SDK knows for Bedrock (`x-amzn-errortype`), by HTTP status. */
const AWS_TYPE: Record<number, string> = {
  400: 'ValidationException',
  401: 'AccessDeniedException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  409: 'ConflictException',
  413: 'ValidationException',
  415: 'ValidationException',
  422: 'ValidationException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  502: 'ServiceUnavailableException',
  503: 'ServiceUnavailableException',
  504: 'ModelTimeoutException',
};

/** The AWS error type for a status: the AWS SDK raises its class (`ThrottlingException`, ...). */
export function bedrockErrorType(e: ShapedError): string {
  return e.type ?? AWS_TYPE[e.status] ?? (e.status >= 500 ? 'InternalServerException' : 'ValidationException');
}

/**
 * AWS's JSON error body (`message`); the type goes in `x-amzn-errortype`. BYO's own code and
 * request id ride along: the AWS SDK copies unmodelled body fields onto the exception
 * (`err.code`, `err.requestId`).
 */
export function bedrockErrorBody(e: ShapedError): Record<string, unknown> {
  return { message: e.message, code: e.code, ...(e.requestId ? { requestId: e.requestId } : {}) };
}
