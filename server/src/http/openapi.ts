import { generateOpenApiDocument } from 'trpc-to-openapi';
import { ERROR_STATUS } from '../errors.js';
import type { AppRouter } from '../trpc/router.js';
import { eventWebhooks } from './openapi-webhooks.js';

export const API_VERSION = '0.1.0';

type Doc = ReturnType<typeof generateOpenApiDocument>;

/**
 * The OpenAPI document, generated from the router and the event schemas (its `webhooks`): the
 * source of the SDK's, the CLI's and the connect client's types.
 */
export function buildOpenApiDocument(router: AppRouter, baseUrl = '/v1'): Doc {
  const doc = generateOpenApiDocument(router, {
    title: 'BYO API',
    description:
      "Bring-your-own-key platform: store customers' AI provider keys, proxy calls with them, and manage their lifecycle. Authenticate with `Authorization: Bearer byo_sk_...` (or `byo_pk_...` for connect).",
    version: API_VERSION,
    baseUrl,
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A BYO API key or the admin token' } },
  });
  const events = eventWebhooks();
  const out = withErrorSchema(doc, declaredErrors(router));
  Object.assign(out.components?.schemas ?? {}, events.schemas);
  out.components = { ...out.components, parameters: events.parameters as never };
  return { ...out, webhooks: events.webhooks as never };
}

/** The `errorResponses` each procedure's meta declares, by operation id (`keys.connect` → `keys-connect`). */
function declaredErrors(router: AppRouter): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const procedures = (router as unknown as { _def: { procedures: Record<string, { _def?: { meta?: unknown } }> } })._def.procedures;
  for (const [path, proc] of Object.entries(procedures)) {
    const declared = (proc._def?.meta as { openapi?: { errorResponses?: unknown } } | undefined)?.openapi?.errorResponses;
    if (!declared) continue;
    out[path.replace(/\./g, '-')] = Array.isArray(declared)
      ? Object.fromEntries(declared.map((n) => [String(n), DEFAULT_DESCRIPTION[Number(n)] ?? 'Error']))
      : (declared as Record<string, string>);
  }
  return out;
}

/**
 * The body of every error BYO sends on the REST surface (errors.ts `ErrorBody`): the same for
 * every status. `code` is the stable machine-readable value to branch on.
 */
export const ERROR_SCHEMA = {
  type: 'object',
  description: 'Every error has this body. Branch on `code`; show `message`; quote `requestId` when asking for support.',
  properties: {
    code: {
      type: 'string',
      enum: Object.keys(ERROR_STATUS),
      description: 'Stable machine-readable error code. Its HTTP status is fixed per code.',
      example: 'validation_failed',
    },
    message: { type: 'string', description: 'What went wrong and what to do; for humans, may change.', example: 'refId: Required' },
    requestId: { type: 'string', description: 'Also in the `x-byo-request-id` header.', example: 'req_3vKqajXomNWndUl5fjrJWj' },
    issues: {
      type: 'array',
      description: 'On validation errors: one entry per invalid field.',
      items: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'The field, dotted (`providerConfig.baseUrl`); empty for the whole body.' },
          message: { type: 'string' },
        },
        required: ['path', 'message'],
        additionalProperties: false,
      },
    },
  },
  required: ['code', 'message', 'requestId'],
  additionalProperties: false,
} as const;

const DEFAULT_DESCRIPTION: Record<number, string> = {
  400: 'Invalid input (`validation_failed`, `bad_request`, ...)',
  401: 'Missing, invalid or expired API key (`unauthorized`)',
  403: 'This key may not do this (`permission_denied`)',
  404: 'Not found',
  409: 'Conflict with the current state, or an `Idempotency-Key` whose first request is still running (`idempotency_in_progress`; retry after `Retry-After` seconds)',
  413: 'Body too large (`payload_too_large`)',
  415: 'Body is not JSON (`unsupported_media_type`)',
  422: 'The `Idempotency-Key` was used with another request (`idempotency_conflict`); use a new key for a new request',
  429: 'Rate limited (`rate_limited`); retry after `Retry-After` seconds',
  500: 'Internal error (`internal_error`); the request id identifies it in the server logs',
  503: 'The database is unavailable (`database_unavailable`); retry after `Retry-After` seconds',
};

/** Statuses only some operations return, beyond those every operation (or its shape) implies. */
const EXTRA_STATUSES: Record<string, number[]> = {
  'keys-connect': [409, 422, 429],
  'keys-validate': [404, 409],
  'keys-revoke': [404, 409, 422],
  'connectTokens-create': [409, 422],
  'webhooks-endpoints-create': [409, 422],
  'webhooks-endpoints-rotateSecret': [409, 422],
  'webhooks-deliveries-redeliver': [409, 422],
  'apiKeys-create': [404],
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
} as const;

/**
 * trpc-to-openapi describes errors with its own tRPC-shaped schemas (`error.BAD_REQUEST`, with
 * `code: "BAD_REQUEST"`), which is not the body BYO sends. Every error response of every
 * operation is rewritten to reference one `Error` schema, and each operation lists the statuses
 * it can return: 400, 401, 403, 500 and 503 always; 413 and 415 with a body; 404 with a path
 * parameter; 409, 422 and 429 where the operation produces them.
 */
export function withErrorSchema(doc: Doc, declared: Record<string, Record<string, string>> = {}): Doc {
  const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  schemas.Error = ERROR_SCHEMA;
  doc.components = { ...doc.components, schemas: schemas as never };

  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item ?? {}) as [string, OperationLike][]) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      const statuses = new Set<number>([400, 401, 403, 500, 503]);
      if (['post', 'put', 'patch'].includes(method)) {
        statuses.add(413);
        statuses.add(415);
      }
      if (path.includes('{')) statuses.add(404);
      const own = declared[op.operationId ?? ''] ?? {};
      for (const s of EXTRA_STATUSES[op.operationId ?? ''] ?? []) statuses.add(s);
      for (const s of Object.keys(own)) statuses.add(Number(s));
      const responses: Record<string, unknown> = {};
      for (const [status, res] of Object.entries(op.responses)) {
        const n = Number(status);
        if (Number.isNaN(n) || n < 400) responses[status] = res;
      }
      for (const n of [...statuses].sort((a, b) => a - b)) {
        // The adapter caches one response object per tRPC code, so its descriptions leak from one
        // operation to the next: only the procedure's own meta, else the defaults above.
        responses[String(n)] = {
          description: own[String(n)] ?? DEFAULT_DESCRIPTION[n] ?? 'Error',
          ...(n === 409 || n === 429 || n === 503 ? { headers: RETRY_AFTER } : {}),
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      }
      op.responses = responses;
    }
  }
  return doc;
}

interface OperationLike {
  operationId?: string;
  responses?: Record<string, unknown>;
}
