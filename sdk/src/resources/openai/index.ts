import type { RequestOptions } from '../../core/request.js';
import { parseJSONEvent, type Stream } from '../../core/streaming.js';
import { isObject } from '../../internal/utils.js';
import type { Provider } from '../keys.js';
import { ProviderClient, type ProviderClientOptions } from '../proxy.js';
import type { Transport } from '../../core/request.js';
import { Chat } from './chat-completions.js';
import { Embeddings } from './embeddings.js';
import { OpenAIModels } from './models.js';
import { Responses } from './responses.js';

/**
 * OpenAI (and OpenAI-compatible servers) through BYO's proxy, with the customer's stored key.
 * Mirrors the `openai` package: `responses.create`, `chat.completions.create`,
 * `embeddings.create`, `models.list`.
 */
/** The OpenAI-compatible clouds (`groq`, `mistral`, ...) and `openai` itself: OpenAI's API at their base URL. */
export type OpenAICompatibleProvider = Exclude<Provider, 'anthropic' | 'google' | 'azure' | 'bedrock' | 'vertex'>;

export class OpenAIClient extends ProviderClient {
  readonly provider: OpenAICompatibleProvider | 'azure';
  readonly responses: Responses = new Responses(this);
  readonly chat: Chat = new Chat(this);
  readonly embeddings: Embeddings = new Embeddings(this);
  readonly models: OpenAIModels = new OpenAIModels(this);

  constructor(
    transport: Transport,
    apiKey: string,
    options: ProviderClientOptions,
    provider: OpenAICompatibleProvider | 'azure' = 'openai',
  ) {
    super(transport, apiKey, options);
    this.provider = provider;
  }

  /** Azure OpenAI speaks OpenAI's API (the v1 API, no api-version or deployment in the path) under `{endpoint}/openai/v1`. */
  protected override get proxyPath(): string {
    return this.provider === 'azure' ? '/v1/proxy/azure/openai/v1' : `/v1/proxy/${this.provider}`;
  }

  protected authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}` };
  }

  /** @internal */
  _call<R, E>(
    path: string,
    params: { stream?: boolean | null },
    options?: RequestOptions,
    onEvent?: (ev: E) => void,
  ): Promise<R | Stream<E>> {
    if (!params.stream) return this._post<R>(path, params, options);
    return this._stream<E>(
      path,
      params,
      (ev) => {
        if (ev.data === '[DONE]') return { done: true };
        const data = parseJSONEvent(ev);
        if (ev.event === 'error' || (isObject(data) && (data.type === 'error' || (data.error && !data.type && !data.object))))
          throw this.streamError(data, 'The stream reported an error.');
        onEvent?.(data as E);
        return { value: data as E };
      },
      options,
    );
  }

  /** @internal */
  _postJSON<R>(path: string, body: unknown, options?: RequestOptions): Promise<R> {
    return this._post<R>(path, body, options);
  }

  /** @internal */
  _list<R>(path: string, options?: RequestOptions): Promise<R> {
    return this._get<R>(path, undefined, options);
  }
}
