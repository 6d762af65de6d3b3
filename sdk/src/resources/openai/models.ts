import type { RequestOptions } from '../../core/request.js';
import type { OpenAIClient } from './index.js';

export interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  [key: string]: unknown;
}

export interface OpenAIModelList {
  object: 'list';
  data: OpenAIModel[];
}

export class OpenAIModels {
  constructor(private readonly client: OpenAIClient) {}

  /** `GET /models`: the models the customer's key can use. */
  list(options?: RequestOptions): Promise<OpenAIModelList> {
    return this.client._list('/models', options);
  }
}
