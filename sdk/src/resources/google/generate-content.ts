import type { RequestOptions } from '../../core/request.js';
import type { Stream } from '../../core/streaming.js';
import type { GoogleClient } from './index.js';

// Types follow the Gemini API (generativelanguage v1beta, REST field names): exact for the
// fields people use, open for the rest.

export interface Part {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
  /** The part is a thought summary (thinking models). */
  thought?: boolean;
  [key: string]: unknown;
}

export interface Content {
  role?: 'user' | 'model' | (string & {});
  parts: Part[];
}

export interface GenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  candidateCount?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
  responseJsonSchema?: unknown;
  seed?: number;
  thinkingConfig?: { thinkingBudget?: number; includeThoughts?: boolean };
  [key: string]: unknown;
}

export interface GenerateContentParams {
  /** `gemini-2.5-flash` or `models/gemini-2.5-flash`. */
  model: string;
  /** A string is one user turn. */
  contents: string | Content[];
  /** A string is a single text part. */
  systemInstruction?: string | Content;
  generationConfig?: GenerationConfig;
  safetySettings?: { category: string; threshold: string }[];
  tools?: Record<string, unknown>[];
  toolConfig?: Record<string, unknown>;
  cachedContent?: string;
  [key: string]: unknown;
}

export interface Candidate {
  content: Content;
  finishReason?: 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION' | 'OTHER' | (string & {});
  index?: number;
  safetyRatings?: { category: string; probability: string }[];
  [key: string]: unknown;
}

export interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  [key: string]: unknown;
}

export interface GenerateContentResponse {
  candidates?: Candidate[];
  promptFeedback?: { blockReason?: string; [key: string]: unknown };
  usageMetadata?: UsageMetadata;
  modelVersion?: string;
  responseId?: string;
  /**
   * The text parts of the first candidate, joined (thoughts left out), as `@google/genai`'s
   * `response.text`. Computed by the SDK (not enumerable; not part of the JSON).
   */
  readonly text: string | undefined;
  [key: string]: unknown;
}

export class GenerateContent {
  constructor(private readonly client: GoogleClient) {}

  /**
   * `POST /v1beta/models/{model}:generateContent`; with `stream: true`, as the OpenAI and
   * Anthropic clients take it, the same as {@link stream} (Google's API has no such field).
   */
  create(params: GenerateContentParams & { stream?: false }, options?: RequestOptions): Promise<GenerateContentResponse>;
  create(params: GenerateContentParams & { stream: true }, options?: RequestOptions): Promise<Stream<GenerateContentResponse>>;
  create(
    params: GenerateContentParams & { stream?: boolean },
    options?: RequestOptions,
  ): Promise<GenerateContentResponse | Stream<GenerateContentResponse>>;
  create(
    params: GenerateContentParams & { stream?: boolean },
    options?: RequestOptions,
  ): Promise<GenerateContentResponse | Stream<GenerateContentResponse>> {
    const { stream, ...rest } = params;
    return stream ? this.client._streamGenerate(rest, options) : this.client._generate(rest, options);
  }

  /** `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`: a `Stream` of partial responses. */
  stream(params: GenerateContentParams, options?: RequestOptions): Promise<Stream<GenerateContentResponse>> {
    return this.client._streamGenerate(params, options);
  }
}
