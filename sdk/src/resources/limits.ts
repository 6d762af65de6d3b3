import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONBody, JSONResponse } from '../internal/openapi.js';

/** The limits in force (a customer's own, the project default, or none) with `used`, `remaining` and `resetsAt`. */
export interface LimitsState extends JSONResponse<'limits-customerGet'> {}
export type LimitState = LimitsState['limits'][number];
/** A limit to set: `{ metric, window, max, provider?, warnAt? }`. */
export type SpendLimit = JSONBody<'limits-defaultSet'>['limits'][number];

const customerPath = (refId: string) => `/v1/customers/${encodeURIComponent(refId)}/limits`;

/** Spend limits per customer and the project default (docs/spend-controls.md). */
export class Limits extends APIResource {
  /** `GET /v1/customers/{refId}/limits`. */
  get(params: { refId: string }, options?: RequestOptions): Promise<LimitsState> {
    return this._transport.json({ method: 'GET', path: customerPath(params.refId) }, options);
  }

  /** `PUT /v1/customers/{refId}/limits`: replaces the customer's limits (an empty list clears them). */
  set(params: { refId: string; limits: SpendLimit[] }, options?: RequestOptions): Promise<LimitsState> {
    return this._transport.json({ method: 'PUT', path: customerPath(params.refId), body: { limits: params.limits } }, options);
  }

  /** `DELETE /v1/customers/{refId}/limits`: the project default applies again. */
  clear(params: { refId: string }, options?: RequestOptions): Promise<LimitsState> {
    return this._transport.json({ method: 'DELETE', path: customerPath(params.refId) }, options);
  }

  /** `GET /v1/limits/default`. */
  getDefault(options?: RequestOptions): Promise<LimitsState> {
    return this._transport.json({ method: 'GET', path: '/v1/limits/default' }, options);
  }

  /** `PUT /v1/limits/default`: limits for every customer without its own. */
  setDefault(params: { limits: SpendLimit[] }, options?: RequestOptions): Promise<LimitsState> {
    return this._transport.json({ method: 'PUT', path: '/v1/limits/default', body: params }, options);
  }

  /** `DELETE /v1/limits/default`. */
  clearDefault(options?: RequestOptions): Promise<LimitsState> {
    return this._transport.json({ method: 'DELETE', path: '/v1/limits/default' }, options);
  }
}
