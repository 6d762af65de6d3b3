import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONBody, JSONResponse } from '../internal/openapi.js';

export interface ConnectTokenCreateParams extends JSONBody<'connectTokens-create'> {}
/** A short-lived, single-use token: hand `token` to the browser with your publishable key. */
export interface ConnectToken extends JSONResponse<'connectTokens-create'> {}

export class ConnectTokens extends APIResource {
  /** Lets a browser (with the publishable key) replace a customer's key or set a base URL, once. */
  create(params: ConnectTokenCreateParams, options?: RequestOptions): Promise<ConnectToken> {
    return this._transport.json({ method: 'POST', path: '/v1/connect-tokens', body: params, idempotent: true }, options);
  }
}
