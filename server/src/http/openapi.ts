import { generateOpenApiDocument } from 'trpc-to-openapi';
import type { AppRouter } from '../trpc/router.js';

export const API_VERSION = '0.1.0';

/** The OpenAPI document, generated from the router: the source of the SDK's and connect client's types. */
export function buildOpenApiDocument(router: AppRouter, baseUrl = '/v1') {
  return generateOpenApiDocument(router, {
    title: 'BYO API',
    description:
      "Bring-your-own-key platform: store customers' AI provider keys, proxy calls with them, and manage their lifecycle. Authenticate with `Authorization: Bearer byo_sk_...` (or `byo_pk_...` for connect).",
    version: API_VERSION,
    baseUrl,
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A BYO API key or the admin token' } },
  });
}
