import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONBody, JSONResponse, QueryParams } from '../internal/openapi.js';

export type PriceListParams = QueryParams<'prices-list'>;
/** The built-in price table (with its as-of date and sources) and this project's overrides, USD per million tokens. */
export interface PriceList extends JSONResponse<'prices-list'> {}
export type PriceEntry = PriceList['data'][number];
export type PriceSetParams = JSONBody<'prices-set'> & { provider: PriceEntry['provider']; model: string };

const pricePath = (provider: string, model: string) => `/v1/prices/${encodeURIComponent(provider)}/${encodeURIComponent(model)}`;

export class Prices extends APIResource {
  /** `GET /v1/prices`; with `provider` and `model`, the one price that id resolves to (empty `data`: unpriced). */
  list(params: PriceListParams = {}, options?: RequestOptions): Promise<PriceList> {
    return this._transport.json({ method: 'GET', path: '/v1/prices', query: params }, options);
  }

  /** `PUT /v1/prices/{provider}/{model}`: this project's price for a model id (it covers the id's dated versions). */
  set(params: PriceSetParams, options?: RequestOptions): Promise<PriceEntry> {
    const { provider, model, ...body } = params;
    return this._transport.json({ method: 'PUT', path: pricePath(provider, model), body }, options);
  }

  /** `DELETE /v1/prices/{provider}/{model}`: the built-in price (if any) applies again. */
  delete(params: { provider: PriceEntry['provider']; model: string }, options?: RequestOptions): Promise<JSONResponse<'prices-delete'>> {
    return this._transport.json({ method: 'DELETE', path: pricePath(params.provider, params.model) }, options);
  }
}
