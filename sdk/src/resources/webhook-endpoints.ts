import { CursorPage, PagePromise } from '../core/pagination.js';
import type { RequestOptions, Transport } from '../core/request.js';
import { APIResource } from '../core/resource.js';
import type { JSONBody, JSONResponse, QueryParams } from '../internal/openapi.js';

export interface WebhookEndpoint extends JSONResponse<'webhooks-endpoints-get'> {}
/** The created endpoint with its `secret` (`whsec_...`), shown only this once. */
export interface CreatedWebhookEndpoint extends JSONResponse<'webhooks-endpoints-create'> {}
export interface WebhookEndpointCreateParams extends JSONBody<'webhooks-endpoints-create'> {}
export interface WebhookEndpointUpdateParams extends JSONBody<'webhooks-endpoints-update'> {}
export interface WebhookEndpointRotateSecretParams extends JSONBody<'webhooks-endpoints-rotateSecret'> {}
/** The new `secret`, and until when the previous one still signs deliveries. */
export interface RotatedWebhookSecret extends JSONResponse<'webhooks-endpoints-rotateSecret'> {}
export interface WebhookEndpointTestResult extends JSONResponse<'webhooks-endpoints-test'> {}
export interface WebhookEndpointTestParams extends JSONBody<'webhooks-endpoints-test'> {}
export interface DeletedWebhookEndpoint extends JSONResponse<'webhooks-endpoints-delete'> {}
export type WebhookEndpointListParams = Omit<QueryParams<'webhooks-endpoints-list'>, 'cursor'> & { cursor?: string | undefined };

export interface WebhookDelivery extends JSONResponse<'webhooks-deliveries-redeliver'> {}
export type WebhookDeliveryListParams = Omit<QueryParams<'webhooks-deliveries-list'>, 'cursor'> & { cursor?: string | undefined };

const enc = encodeURIComponent;

/** Webhook endpoints: where BYO POSTs key events. */
export class WebhookEndpoints extends APIResource {
  /** Creates an endpoint; the response's `secret` is shown only this once. */
  create(params: WebhookEndpointCreateParams, options?: RequestOptions): Promise<CreatedWebhookEndpoint> {
    return this._transport.json({ method: 'POST', path: '/v1/webhooks/endpoints', body: params, idempotent: true }, options);
  }

  get(id: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this._transport.json({ method: 'GET', path: `/v1/webhooks/endpoints/${enc(id)}` }, options);
  }

  /** Changes the URL, events, description, or pauses (`enabled: false`) the endpoint. */
  update(id: string, params: WebhookEndpointUpdateParams, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this._transport.json({ method: 'PATCH', path: `/v1/webhooks/endpoints/${enc(id)}`, body: params }, options);
  }

  delete(id: string, options?: RequestOptions): Promise<DeletedWebhookEndpoint> {
    return this._transport.json({ method: 'DELETE', path: `/v1/webhooks/endpoints/${enc(id)}` }, options);
  }

  list(params: WebhookEndpointListParams = {}, options?: RequestOptions): PagePromise<WebhookEndpoint> {
    return paginate(this._transport, '/v1/webhooks/endpoints', params, options);
  }

  /** A new secret; for `overlapSeconds` (default 24 h) deliveries are signed with both. */
  rotateSecret(id: string, params: WebhookEndpointRotateSecretParams = {}, options?: RequestOptions): Promise<RotatedWebhookSecret> {
    return this._transport.json(
      { method: 'POST', path: `/v1/webhooks/endpoints/${enc(id)}/rotate-secret`, body: params, idempotent: true },
      options,
    );
  }

  /**
   * Sends a `webhook.test` event now (or, with `{ event: 'key.disabled' }` and the like, a sample
   * key event with `refId: 'ref_test'`) and reports how the endpoint answered.
   */
  test(id: string, params: WebhookEndpointTestParams = {}, options?: RequestOptions): Promise<WebhookEndpointTestResult> {
    return this._transport.json({ method: 'POST', path: `/v1/webhooks/endpoints/${enc(id)}/test`, body: params }, options);
  }
}

/** The delivery log. */
export class WebhookDeliveries extends APIResource {
  list(params: WebhookDeliveryListParams = {}, options?: RequestOptions): PagePromise<WebhookDelivery> {
    return paginate(this._transport, '/v1/webhooks/deliveries', params, options);
  }

  /** Sends a delivery again (same event id). */
  redeliver(id: string, options?: RequestOptions): Promise<WebhookDelivery> {
    return this._transport.json(
      { method: 'POST', path: `/v1/webhooks/deliveries/${enc(id)}/redeliver`, body: {}, idempotent: true },
      options,
    );
  }
}

function paginate<T>(
  transport: Transport,
  path: string,
  params: Record<string, string | number | boolean | undefined> & { cursor?: string | undefined },
  options: RequestOptions | undefined,
): PagePromise<T> {
  const fetchPage = async (cursor: string | undefined): Promise<CursorPage<T>> => {
    const res = await transport.json<{ data: T[]; nextCursor: string | null }>(
      { method: 'GET', path, query: { ...params, cursor } },
      options,
    );
    return new CursorPage(res.data, res.nextCursor, (next) => fetchPage(next));
  };
  return new PagePromise(() => fetchPage(params.cursor));
}
