import type { RequestOptions } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONResponse } from '../internal/openapi.js';

/** The catalog: every provider the server speaks, with the credential fields each takes. */
export interface ProviderList extends JSONResponse<'providers-list'> {}
export type ProviderEntry = ProviderList['data'][number];

export class Providers extends APIResource {
  /** `GET /v1/providers`. */
  list(options?: RequestOptions): Promise<ProviderList> {
    return this._transport.json({ method: 'GET', path: '/v1/providers' }, options);
  }
}
