import type { HTTPRequest, RequestOptions } from '../../core/request.js';
import { parseJSONEvent, type Stream } from '../../core/streaming.js';
import { isObject } from '../../internal/utils.js';
import { ProviderClient } from '../proxy.js';
import { GenerateContent, type GenerateContentParams, type GenerateContentResponse } from './generate-content.js';
import { GoogleModels } from './models.js';

/**
 * Google Gemini through BYO's proxy, with the customer's stored key:
 * `generateContent.create`, `generateContent.stream`, `models.list`.
 */
export class GoogleClient extends ProviderClient {
  readonly provider = 'google' as const;
  readonly generateContent: GenerateContent = new GenerateContent(this);
  readonly models: GoogleModels = new GoogleModels(this);

  protected authHeaders(): Record<string, string> {
    return { 'x-goog-api-key': this.apiKey };
  }

  /** @internal */
  async _generate(params: GenerateContentParams, options?: RequestOptions): Promise<GenerateContentResponse> {
    const { path, body } = generateRequest(params, 'generateContent');
    return withText(await this._post<GenerateContentResponse>(path, body, options));
  }

  /** @internal */
  _streamGenerate(params: GenerateContentParams, options?: RequestOptions): Promise<Stream<GenerateContentResponse>> {
    const { path, body } = generateRequest(params, 'streamGenerateContent');
    return this._stream<GenerateContentResponse>(
      path,
      body,
      (ev) => {
        const data = parseJSONEvent(ev);
        if (isObject(data) && isObject(data.error)) throw this.streamError(data, 'The stream reported an error.');
        return { value: withText(data as GenerateContentResponse) };
      },
      options,
      { alt: 'sse' },
    );
  }

  /** @internal */
  _getJSON<R>(path: string, query: HTTPRequest['query'], options?: RequestOptions): Promise<R> {
    return this._get<R>(path, query, options);
  }
}

function generateRequest(params: GenerateContentParams, method: string): { path: string; body: Record<string, unknown> } {
  const { model, contents, systemInstruction, ...rest } = params;
  const name = model.replace(/^models\//, '');
  const body: Record<string, unknown> = {
    ...rest,
    contents: typeof contents === 'string' ? [{ role: 'user', parts: [{ text: contents }] }] : contents,
  };
  if (systemInstruction !== undefined)
    body.systemInstruction = typeof systemInstruction === 'string' ? { parts: [{ text: systemInstruction }] } : systemInstruction;
  return { path: `/v1beta/models/${encodeURIComponent(name)}:${method}`, body };
}

/** Adds the non-enumerable `text` getter, as `@google/genai` has. */
function withText(rsp: GenerateContentResponse): GenerateContentResponse {
  if (!isObject(rsp)) return rsp;
  Object.defineProperty(rsp, 'text', {
    enumerable: false,
    configurable: true,
    get() {
      const parts = rsp.candidates?.[0]?.content?.parts;
      if (!parts) return undefined;
      const texts = parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text as string);
      return texts.length > 0 ? texts.join('') : undefined;
    },
  });
  return rsp;
}
