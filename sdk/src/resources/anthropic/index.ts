import type { HTTPRequest, RequestOptions } from '../../core/request.js';
import { parseJSONEvent, type Stream } from '../../core/streaming.js';
import { ProviderClient } from '../proxy.js';
import { type Message, type MessageCreateParams, Messages, type MessageStreamEvent } from './messages.js';
import { AnthropicModels } from './models.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Anthropic through BYO's proxy, with the customer's stored key. Mirrors
 * `@anthropic-ai/sdk`: `messages.create` (with `stream: true`), `models.list`.
 */
export class AnthropicClient extends ProviderClient {
  readonly provider = 'anthropic' as const;
  readonly messages: Messages = new Messages(this);
  readonly models: AnthropicModels = new AnthropicModels(this);

  protected authHeaders(): Record<string, string> {
    const given = Object.entries(this.headers).find(([k]) => k.toLowerCase() === 'anthropic-version')?.[1];
    return { 'x-api-key': this.apiKey, 'anthropic-version': given ?? ANTHROPIC_VERSION };
  }

  /** @internal */
  _messages(params: MessageCreateParams, options?: RequestOptions): Promise<Message | Stream<MessageStreamEvent>> {
    if (!params.stream) return this._post<Message>('/v1/messages', params, options);
    return this._stream<MessageStreamEvent>(
      '/v1/messages',
      params,
      (ev) => {
        if (ev.event === 'ping') return { skip: true };
        const data = parseJSONEvent(ev) as { type?: string };
        if (ev.event === 'error' || data?.type === 'error') throw this.streamError(data, 'The stream reported an error.');
        return { value: data as MessageStreamEvent };
      },
      options,
    );
  }

  /** @internal */
  _getJSON<R>(path: string, query: HTTPRequest['query'], options?: RequestOptions): Promise<R> {
    return this._get<R>(path, query, options);
  }
}
