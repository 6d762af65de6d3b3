import type { RequestOptions } from '../../core/request.js';
import type { OpenAIClient } from './index.js';

export interface EmbeddingCreateParams {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  /** Default `float`. With `base64`, `embedding` is a base64 string. */
  encoding_format?: 'float' | 'base64';
  user?: string;
  [key: string]: unknown;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  embedding: number[];
}

export interface CreateEmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export class Embeddings {
  constructor(private readonly client: OpenAIClient) {}

  /** `POST /embeddings`. */
  create(params: EmbeddingCreateParams, options?: RequestOptions): Promise<CreateEmbeddingResponse> {
    return this.client._postJSON('/embeddings', params, options);
  }
}
