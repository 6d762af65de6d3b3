import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONResponse, QueryParams } from '../internal/openapi.js';

export type UsageGetParams = QueryParams<'usage-get'>;
/** Proxied calls by UTC day, refId, provider, stored key (`keyId`) and model, with tokens and cost (`costUsd`, null when unpriced). */
export interface UsageReport extends JSONResponse<'usage-get'> {}
export type UsageRow = UsageReport['data'][number];

export class UsageResource extends APIResource {
  /** `GET /v1/usage` (one page; pass `cursor: nextCursor` for the next). */
  get(params: UsageGetParams = {}, options?: RequestOptions): Promise<UsageReport> {
    return this._transport.json({ method: 'GET', path: '/v1/usage', query: params }, options);
  }
}
