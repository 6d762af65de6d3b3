import type { ProviderName } from '../../db/schema.js';
import { providerById } from '../registry.js';
import { anthropicErrorBody } from './anthropic.js';
import { bedrockErrorBody, bedrockErrorType } from './bedrock.js';
import { googleErrorBody } from './google.js';
import { openaiErrorBody } from './openai.js';
import type { ShapedError } from './shaped-error.js';

export type { ShapedError } from './shaped-error.js';

/**
 * Error bodies in each provider's own wire shape, so the provider's official SDK raises a
 * readable, typed error (`APIError` with `status`, `message`, `code`/`type`) for an error
 * that BYO produced. BYO's own `code` is carried where each shape has room for it. Used by
 * the proxy (BYO's own errors) and the sandbox (its fake provider answers).
 */
export function providerErrorBody(provider: ProviderName, e: ShapedError): Record<string, unknown> {
  switch (providerById(provider)?.wire) {
    case 'anthropic':
      return anthropicErrorBody(e);
    case 'google':
      return googleErrorBody(e);
    case 'bedrock':
      return bedrockErrorBody(e);
    default:
      return openaiErrorBody(e);
  }
}

/** Headers an error in the provider's shape needs besides its body (AWS puts the error type in one). */
export function providerErrorHeaders(provider: ProviderName, e: ShapedError): Record<string, string> | null {
  return providerById(provider)?.wire === 'bedrock' ? { 'x-amzn-errortype': bedrockErrorType(e) } : null;
}
