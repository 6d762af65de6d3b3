import type { RequestOptions } from '../../core/request.js';
import type { GoogleClient } from './index.js';

export interface GoogleModel {
  /** `models/gemini-2.5-flash`. */
  name: string;
  baseModelId?: string;
  version?: string;
  displayName?: string;
  description?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  supportedGenerationMethods?: string[];
  [key: string]: unknown;
}

export interface GoogleModelList {
  models: GoogleModel[];
  nextPageToken?: string;
}

export interface GoogleModelListParams {
  pageSize?: number;
  pageToken?: string;
}

export class GoogleModels {
  constructor(private readonly client: GoogleClient) {}

  /** `GET /v1beta/models`: one page (`nextPageToken` → `pageToken` for the next). */
  list(params: GoogleModelListParams = {}, options?: RequestOptions): Promise<GoogleModelList> {
    return this.client._getJSON('/v1beta/models', { ...params }, options);
  }
}
