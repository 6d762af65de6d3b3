import type { RequestOptions } from '../../core/request.js';
import type { Stream } from '../../core/streaming.js';
import type { AnthropicClient } from './index.js';

// Types follow Anthropic's Messages API: exact for the fields people use, open for the rest.

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: { type: 'ephemeral' } | null;
  [key: string]: unknown;
}
export interface ImageBlockParam {
  type: 'image';
  source:
    | { type: 'base64'; media_type: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp'; data: string }
    | { type: 'url'; url: string };
  cache_control?: { type: 'ephemeral' } | null;
}
export interface ToolUseBlockParam {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}
export interface ToolResultBlockParam {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | (TextBlockParam | ImageBlockParam)[];
  is_error?: boolean;
}
export type ContentBlockParam =
  | TextBlockParam
  | ImageBlockParam
  | ToolUseBlockParam
  | ToolResultBlockParam
  | { type: string; [key: string]: unknown };

export interface MessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlockParam[];
}

export interface Tool {
  name: string;
  description?: string;
  input_schema: { type: 'object'; properties?: Record<string, unknown> | null; required?: string[]; [key: string]: unknown };
  [key: string]: unknown;
}

export interface MessageCreateParamsBase {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  tools?: (Tool | { type: string; name: string; [key: string]: unknown })[];
  tool_choice?:
    | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
    | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };
  thinking?: { type: 'enabled'; budget_tokens: number } | { type: 'disabled' };
  metadata?: { user_id?: string | null };
  [key: string]: unknown;
}
export interface MessageCreateParamsNonStreaming extends MessageCreateParamsBase {
  stream?: false;
}
export interface MessageCreateParamsStreaming extends MessageCreateParamsBase {
  stream: true;
}
export type MessageCreateParams = MessageCreateParamsNonStreaming | MessageCreateParamsStreaming;

export interface TextBlock {
  type: 'text';
  text: string;
  citations?: unknown[] | null;
}
export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}
export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}
export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}
export type ContentBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock;

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  [key: string]: unknown;
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
  [key: string]: unknown;
}

export type ContentBlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'citations_delta'; citation: unknown };

/** The events of a streamed message (`ping`s are skipped; an `error` event throws). */
export type MessageStreamEvent =
  | { type: 'message_start'; message: Message }
  | {
      type: 'message_delta';
      delta: { stop_reason: StopReason | null; stop_sequence: string | null };
      usage: { output_tokens: number; [key: string]: unknown };
    }
  | { type: 'message_stop' }
  | { type: 'content_block_start'; index: number; content_block: ContentBlock }
  | { type: 'content_block_delta'; index: number; delta: ContentBlockDelta }
  | { type: 'content_block_stop'; index: number };

export class Messages {
  constructor(private readonly client: AnthropicClient) {}

  /** `POST /v1/messages`. With `stream: true`, resolves to a `Stream<MessageStreamEvent>`. */
  create(params: MessageCreateParamsNonStreaming, options?: RequestOptions): Promise<Message>;
  create(params: MessageCreateParamsStreaming, options?: RequestOptions): Promise<Stream<MessageStreamEvent>>;
  create(params: MessageCreateParams, options?: RequestOptions): Promise<Message | Stream<MessageStreamEvent>>;
  create(params: MessageCreateParams, options?: RequestOptions): Promise<Message | Stream<MessageStreamEvent>> {
    return this.client._messages(params, options);
  }
}
