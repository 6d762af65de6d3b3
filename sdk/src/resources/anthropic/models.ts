import type { RequestOptions } from '../../core/request.js';
import type { AnthropicClient } from './index.js';

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  [key: string]: unknown;
}

export interface AnthropicModelList {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

export interface AnthropicModelListParams {
  limit?: number;
  after_id?: string;
  before_id?: string;
}

export class AnthropicModels {
  constructor(private readonly client: AnthropicClient) {}

  /** `GET /v1/models`: one page (`has_more`, `last_id` → `after_id` for the next). */
  list(params: AnthropicModelListParams = {}, options?: RequestOptions): Promise<AnthropicModelList> {
    return this.client._getJSON('/v1/models', { ...params }, options);
  }
}
