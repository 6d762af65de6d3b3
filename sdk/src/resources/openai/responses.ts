import type { RequestOptions } from '../../core/request.js';
import type { Stream } from '../../core/streaming.js';
import type { OpenAIClient } from './index.js';

// Types follow OpenAI's Responses API: exact for the fields people use, open for the rest.

export type ResponseInputContent =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url?: string; file_id?: string; detail?: 'auto' | 'low' | 'high' }
  | { type: 'input_file'; file_id?: string; file_data?: string; filename?: string };

export type ResponseInputItem =
  | {
      type?: 'message';
      role: 'user' | 'assistant' | 'system' | 'developer';
      content: string | ResponseInputContent[] | ResponseOutputText[];
    }
  | { type: 'function_call_output'; call_id: string; output: string }
  | { type: string; [key: string]: unknown };

export interface ResponseFunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}
export type ResponseTool = ResponseFunctionTool | { type: string; [key: string]: unknown };

export interface ResponseCreateParamsBase {
  model: string;
  input?: string | ResponseInputItem[];
  instructions?: string | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  tools?: ResponseTool[];
  tool_choice?: 'none' | 'auto' | 'required' | { type: string; [key: string]: unknown };
  parallel_tool_calls?: boolean | null;
  previous_response_id?: string | null;
  store?: boolean | null;
  reasoning?: { effort?: 'minimal' | 'low' | 'medium' | 'high' | null; summary?: 'auto' | 'concise' | 'detailed' | null } | null;
  text?: {
    format?:
      | { type: 'text' }
      | { type: 'json_object' }
      | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean | null };
  };
  metadata?: Record<string, string> | null;
  user?: string;
  [key: string]: unknown;
}
export interface ResponseCreateParamsNonStreaming extends ResponseCreateParamsBase {
  stream?: false | null;
}
export interface ResponseCreateParamsStreaming extends ResponseCreateParamsBase {
  stream: true;
}
export type ResponseCreateParams = ResponseCreateParamsNonStreaming | ResponseCreateParamsStreaming;

export interface ResponseOutputText {
  type: 'output_text';
  text: string;
  annotations?: unknown[];
  [key: string]: unknown;
}
export interface ResponseOutputRefusal {
  type: 'refusal';
  refusal: string;
}
export interface ResponseOutputMessage {
  type: 'message';
  id: string;
  role: 'assistant';
  status: 'in_progress' | 'completed' | 'incomplete';
  content: (ResponseOutputText | ResponseOutputRefusal)[];
}
export interface ResponseFunctionToolCall {
  type: 'function_call';
  id?: string;
  call_id: string;
  name: string;
  arguments: string;
  status?: 'in_progress' | 'completed' | 'incomplete';
}
export interface ResponseReasoningItem {
  type: 'reasoning';
  id: string;
  summary: { type: 'summary_text'; text: string }[];
  [key: string]: unknown;
}
export type ResponseOutputItem = ResponseOutputMessage | ResponseFunctionToolCall | ResponseReasoningItem;

export interface ResponseUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details?: { cached_tokens: number };
  output_tokens_details?: { reasoning_tokens: number };
}

export interface Response {
  id: string;
  object: 'response';
  created_at: number;
  model: string;
  status?: 'completed' | 'failed' | 'in_progress' | 'cancelled' | 'queued' | 'incomplete';
  output: ResponseOutputItem[];
  /**
   * The text of every `output_text` part, joined; computed by the SDK as OpenAI's own SDK does
   * (the API does not send it).
   */
  output_text: string;
  usage?: ResponseUsage;
  error?: { code: string; message: string } | null;
  incomplete_details?: { reason?: string } | null;
  instructions?: unknown;
  metadata?: Record<string, string> | null;
  [key: string]: unknown;
}

interface Seq {
  sequence_number: number;
}
/** The events of a streamed response (the common ones; others arrive too, untyped). */
export type ResponseStreamEvent =
  | ({
      type: 'response.created' | 'response.in_progress' | 'response.completed' | 'response.failed' | 'response.incomplete';
      response: Response;
    } & Seq)
  | ({ type: 'response.output_item.added' | 'response.output_item.done'; output_index: number; item: ResponseOutputItem } & Seq)
  | ({
      type: 'response.content_part.added' | 'response.content_part.done';
      item_id: string;
      output_index: number;
      content_index: number;
      part: ResponseOutputText | ResponseOutputRefusal;
    } & Seq)
  | ({ type: 'response.output_text.delta'; item_id: string; output_index: number; content_index: number; delta: string } & Seq)
  | ({ type: 'response.output_text.done'; item_id: string; output_index: number; content_index: number; text: string } & Seq)
  | ({ type: 'response.function_call_arguments.delta'; item_id: string; output_index: number; delta: string } & Seq)
  | ({ type: 'response.function_call_arguments.done'; item_id: string; output_index: number; arguments: string } & Seq);

export class Responses {
  constructor(private readonly client: OpenAIClient) {}

  /** `POST /responses`. With `stream: true`, resolves to a `Stream<ResponseStreamEvent>`. */
  create(params: ResponseCreateParamsNonStreaming, options?: RequestOptions): Promise<Response>;
  create(params: ResponseCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ResponseStreamEvent>>;
  create(params: ResponseCreateParams, options?: RequestOptions): Promise<Response | Stream<ResponseStreamEvent>>;
  async create(params: ResponseCreateParams, options?: RequestOptions): Promise<Response | Stream<ResponseStreamEvent>> {
    const result = await this.client._call<Response, ResponseStreamEvent>('/responses', params, options, (ev) => {
      if ('response' in ev && ev.response) addOutputText(ev.response);
    });
    if (!params.stream) addOutputText(result as Response);
    return result;
  }
}

/** `output_text`, as OpenAI's SDK computes it. */
function addOutputText(rsp: Response): void {
  const texts: string[] = [];
  for (const item of rsp.output ?? [])
    if (item.type === 'message') for (const c of item.content ?? []) if (c.type === 'output_text') texts.push(c.text);
  rsp.output_text = texts.join('');
}
