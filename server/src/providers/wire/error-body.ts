import type { ProviderName } from '../../db/schema.js';
import { anthropicErrorBody } from './anthropic.js';
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
  switch (provider) {
    case 'anthropic':
      return anthropicErrorBody(e);
    case 'google':
      return googleErrorBody(e);
    default:
      return openaiErrorBody(e);
  }
}
