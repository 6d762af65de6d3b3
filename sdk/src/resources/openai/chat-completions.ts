import type { RequestOptions } from '../../core/request.js';
import type { Stream } from '../../core/streaming.js';
import type { OpenAIClient } from './index.js';

// Types follow OpenAI's Chat Completions API: exact for the fields people use, open for the rest.

export interface ChatCompletionContentPartText {
  type: 'text';
  text: string;
}
export interface ChatCompletionContentPartImage {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export interface ChatCompletionContentPartInputAudio {
  type: 'input_audio';
  input_audio: { data: string; format: 'wav' | 'mp3' };
}
export type ChatCompletionContentPart =
  | ChatCompletionContentPartText
  | ChatCompletionContentPartImage
  | ChatCompletionContentPartInputAudio;

export interface ChatCompletionMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatCompletionMessageParam =
  | { role: 'system' | 'developer'; content: string | ChatCompletionContentPartText[]; name?: string; [key: string]: unknown }
  | { role: 'user'; content: string | ChatCompletionContentPart[]; name?: string; [key: string]: unknown }
  | {
      role: 'assistant';
      content?: string | ChatCompletionContentPartText[] | null;
      tool_calls?: ChatCompletionMessageToolCall[];
      refusal?: string | null;
      name?: string;
      [key: string]: unknown;
    }
  | { role: 'tool'; content: string | ChatCompletionContentPartText[]; tool_call_id: string; [key: string]: unknown };

export interface ChatCompletionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

export type ChatCompletionToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatCompletionCreateParamsBase {
  model: string;
  messages: ChatCompletionMessageParam[];
  max_completion_tokens?: number | null;
  /** Older models; newer ones take `max_completion_tokens`. */
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  tools?: ChatCompletionTool[];
  tool_choice?: ChatCompletionToolChoice;
  parallel_tool_calls?: boolean;
  response_format?:
    | { type: 'text' }
    | { type: 'json_object' }
    | {
        type: 'json_schema';
        json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean | null; description?: string };
      };
  reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  user?: string;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  [key: string]: unknown;
}
export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}
export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
}
export type ChatCompletionCreateParams = ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming;

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number };
}

export type ChatCompletionFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: ChatCompletionMessage; finish_reason: ChatCompletionFinishReason; logprobs?: unknown }[];
  usage?: CompletionUsage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
  [key: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: {
      role?: 'assistant' | 'developer' | 'system' | 'user' | 'tool';
      content?: string | null;
      refusal?: string | null;
      tool_calls?: { index: number; id?: string; type?: 'function'; function?: { name?: string; arguments?: string } }[];
      [key: string]: unknown;
    };
    finish_reason: ChatCompletionFinishReason | null;
    logprobs?: unknown;
  }[];
  /** Only on the last chunk, with `stream_options: { include_usage: true }`. */
  usage?: CompletionUsage | null;
  system_fingerprint?: string | null;
  [key: string]: unknown;
}

export class Completions {
  constructor(private readonly client: OpenAIClient) {}

  /** `POST /chat/completions`. With `stream: true`, resolves to a `Stream<ChatCompletionChunk>`. */
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | Stream<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
    return this.client._call('/chat/completions', params, options);
  }
}

export class Chat {
  readonly completions: Completions;
  constructor(client: OpenAIClient) {
    this.completions = new Completions(client);
  }
}
