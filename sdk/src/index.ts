export { type BYOGoogleAuthClient, googleAuthClient, withRefId } from './cloud-clients.js';
export { BYOK, BYOK as default, type ClientOptions, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from './client.js';
export {
  APIConnectionError,
  type APIErrorBody,
  APIUserAbortError,
  AuthenticationError,
  type BYOErrorCode,
  BYOKError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  UnprocessableEntityError,
  ValidationError,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
} from './core/errors.js';
export { CursorPage, PagePromise } from './core/pagination.js';
export type { Fetch, RequestOptions } from './core/request.js';
export { Stream } from './core/streaming.js';
export type * from './resources/anthropic/messages.js';
export type * from './resources/anthropic/models.js';
export { ANTHROPIC_VERSION, AnthropicClient } from './resources/anthropic/index.js';
export type * from './resources/connect-tokens.js';
export type * from './resources/google/generate-content.js';
export type * from './resources/google/models.js';
export { GoogleClient } from './resources/google/index.js';
export type * from './resources/keys.js';
export type * from './resources/openai/chat-completions.js';
export type * from './resources/webhook-endpoints.js';
export type * from './resources/openai/embeddings.js';
export type * from './resources/openai/models.js';
export type * from './resources/openai/responses.js';
export { OpenAIClient, type OpenAICompatibleProvider } from './resources/openai/index.js';
export type * from './resources/providers.js';
export type * from './resources/prices.js';
export type * from './resources/limits.js';
export type * from './resources/customers.js';
export type * from './resources/usage.js';
export { Providers } from './resources/providers.js';
export type { ProviderClientOptions } from './resources/proxy.js';
export {
  DEFAULT_TOLERANCE_SECONDS,
  type KeyConnectedEvent,
  type KeyConnectedEventData,
  type KeyDisabledEvent,
  type KeyEventData,
  type KeyEventDataWithReason,
  type KeyModelsChangedEvent,
  type KeyModelsChangedEventData,
  type KeyRevokedEvent,
  type KeyValidationFailedEvent,
  type KeyValidationFailedEventData,
  type LimitEventData,
  type LimitEventLimit,
  type LimitExceededEvent,
  type LimitExceededEventData,
  type LimitWarningEvent,
  type TestHeadersParams,
  type VerifyOptions,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookPayload,
  Webhooks,
  WebhooksResource,
  type WebhookTestEvent,
  type WebhookTestEventData,
  webhooks,
} from './resources/webhooks.js';
export { VERSION } from './version.js';
