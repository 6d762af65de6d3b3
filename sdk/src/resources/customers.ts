import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONResponse, QueryParams } from '../internal/openapi.js';

export type CustomerListParams = QueryParams<'customers-list'>;
/** A page of customers (refIds with a stored key): keys, last use, this month's requests, tokens and cost. */
export interface CustomerList extends JSONResponse<'customers-list'> {}
export type CustomerSummary = CustomerList['data'][number];
/** One customer: its keys, its limits with their live state, its usage this month. */
export interface Customer extends JSONResponse<'customers-get'> {}

export class Customers extends APIResource {
  /** `GET /v1/customers` (one page; pass `cursor: nextCursor` for the next). */
  list(params: CustomerListParams = {}, options?: RequestOptions): Promise<CustomerList> {
    return this._transport.json({ method: 'GET', path: '/v1/customers', query: params }, options);
  }

  /** `GET /v1/customers/{refId}`. */
  get(params: { refId: string }, options?: RequestOptions): Promise<Customer> {
    return this._transport.json({ method: 'GET', path: `/v1/customers/${encodeURIComponent(params.refId)}` }, options);
  }
}
