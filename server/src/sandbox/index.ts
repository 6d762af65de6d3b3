import type { ProviderName } from '../db/schema.js';
import { SANDBOX_INVALID_KEY } from '../providers/catalog.js';
import { providerById } from '../providers/registry.js';
import { anthropicError, anthropicSandbox } from './anthropic.js';
import { googleError, googleSandbox } from './google.js';
import { openaiError, openaiSandbox } from './openai.js';
import type { SandboxOptions, SandboxRequest, SandboxResponse } from './types.js';

export type { SandboxOptions, SandboxRequest, SandboxResponse } from './types.js';

/**
 * The test-mode sandbox: answers a provider call in that
 * provider's wire format, JSON or SSE, with no network. `sk-byo-test-invalid` gets the
 * provider's own 401, exactly as a rejected real key would.
 */
export function sandboxRespond(
  provider: ProviderName,
  providerKey: string,
  req: SandboxRequest,
  opts: SandboxOptions = {},
): SandboxResponse {
  if (providerKey === SANDBOX_INVALID_KEY) return invalidKey(provider);
  return respondAs(provider, req, opts);
}

/** The sandbox's wire-format answer for a request, whatever the key (the mock upstream uses this too). */
export function respondAs(provider: ProviderName, req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const own = providerById(provider)?.sandbox;
  if (own) return own.respond(req, opts);
  switch (provider) {
    case 'anthropic':
      return anthropicSandbox(req, opts);
    case 'google':
      return googleSandbox(req, opts);
    default:
      return openaiSandbox(req, opts);
  }
}

/** The 401 each provider sends for a key it does not accept. */
export function invalidKey(provider: ProviderName): SandboxResponse {
  const own = providerById(provider)?.sandbox;
  if (own) return own.invalidKey();
  switch (provider) {
    case 'anthropic':
      return anthropicError(401, 'authentication_error', 'invalid x-api-key');
    case 'google':
      return googleError(401, 'API key not valid. Please pass a valid API key.', 'UNAUTHENTICATED', 'API_KEY_INVALID');
    default:
      return openaiError(
        401,
        'Incorrect API key provided: sk-byo-...alid. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_api_key',
      );
  }
}

/** A request body the sandbox could not parse, in the provider's shape. */
export function badJson(provider: ProviderName): SandboxResponse {
  const message = 'We could not parse the JSON body of your request.';
  switch (provider) {
    case 'anthropic':
      return anthropicError(400, 'invalid_request_error', message);
    case 'google':
      return googleError(400, message, 'INVALID_ARGUMENT');
    default:
      return openaiError(400, message, null);
  }
}
