import { WebhookVerificationError, type WebhookVerificationErrorCode } from '../core/errors.js';
import type { components, webhooks as WebhookOperations } from '../generated/openapi.js';
import { hmacKey, hmacSign, hmacVerify } from '../internal/crypto.js';
import { encodeUtf8, fromBase64, fromHex, toBase64, toHex } from '../internal/encoding.js';
import type { Transport } from '../core/request.js';
import { getHeader, type HeadersLike, isObject, uuid4 } from '../internal/utils.js';
import { WebhookDeliveries, WebhookEndpoints } from './webhook-endpoints.js';

type Schema<N extends keyof components['schemas']> = components['schemas'][N];
/**
 * The body BYO POSTs for a `T` event: the OpenAPI document's `webhooks` entry, generated from
 * the server's event schemas, so these types cannot drift from what is sent.
 */
type EventBody<T extends WebhookEventType> = WebhookOperations[T]['post']['requestBody']['content']['application/json'];

/** Data carried by every key lifecycle event (never key material). `keyHint` is like `sk-...abcd`, or null. */
export interface KeyEventData extends Schema<'KeyEventData'> {}
/** `key.disabled` and `key.validation_failed` also say why. */
export interface KeyEventDataWithReason extends Schema<'KeyEventDataWithReason'> {}
/** `key.connected` also says whether the refId had a key before, and who connected this one. */
export interface KeyConnectedEventData extends Schema<'KeyConnectedEventData'> {}
/** `key.validation_failed` from a scheduled check also says it was one, and how many refusals in a row. */
export interface KeyValidationFailedEventData extends Schema<'KeyValidationFailedEventData'> {}
/** `key.models_changed`: the models the provider lists for the key changed since its last check. */
export interface KeyModelsChangedEventData extends Schema<'KeyModelsChangedEventData'> {}
/** A spend limit, as `limit.*` events carry it (docs/spend-controls.md). */
export interface LimitEventLimit extends Schema<'LimitEventLimit'> {}
/** Data of `limit.warning` and `limit.exceeded`. */
export interface LimitEventData extends Schema<'LimitEventData'> {}
/** `limit.exceeded` also says what the refused call would have used. */
export interface LimitExceededEventData extends Schema<'LimitExceededEventData'> {}
/** Data of a `webhook.test` event. */
export interface WebhookTestEventData extends Schema<'WebhookTestEventData'> {}

/** A key was stored, or replaced. */
export type KeyConnectedEvent = EventBody<'key.connected'>;
/** Your backend revoked the key. */
export type KeyRevokedEvent = EventBody<'key.revoked'>;
/** The provider rejected the stored key during a proxied call or at scheduled checks, or an operator disabled it. */
export type KeyDisabledEvent = EventBody<'key.disabled'>;
/** Validation on connect refused the key (it was not stored), or a scheduled check found the stored key refused. */
export type KeyValidationFailedEvent = EventBody<'key.validation_failed'>;
/** The models the provider lists for the key changed. */
export type KeyModelsChangedEvent = EventBody<'key.models_changed'>;
/** A customer's use crossed `warnAt` of a limit (once per window). */
export type LimitWarningEvent = EventBody<'limit.warning'>;
/** A call was refused by a limit, the first time in its window. */
export type LimitExceededEvent = EventBody<'limit.exceeded'>;
/** Sent by the endpoint's "test" action (without another `event` type). */
export type WebhookTestEvent = EventBody<'webhook.test'>;

/** Every event type BYO sends. */
export type WebhookEventType = keyof WebhookOperations;
/** Any event, by `type`: `verify` returns it. */
export type WebhookEvent = EventBody<WebhookEventType>;

export type WebhookPayload = string | Uint8Array | ArrayBuffer;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300). `Infinity` skips the check. */
  toleranceSeconds?: number;
  /** The time to check against (default: now). For tests. */
  currentTime?: Date;
  /**
   * Also accept a delivery signed only with `X-BYO-Signature` (no `webhook-*` headers). Off by
   * default: that signature covers the body alone, so a captured delivery verifies forever
   * (replays). Turn it on only if something between BYO and you strips the `webhook-*` headers,
   * and then refuse event ids you have already processed.
   */
  allowBodyOnlySignature?: boolean;
}

export interface TestHeadersParams {
  /** The exact body you will send (the signature covers these bytes). */
  payload: WebhookPayload;
  /** The endpoint secret `whsec_...`; several sign with each, as during a rotation. */
  secret: string | readonly string[];
  /** Default: now. */
  timestamp?: Date;
  /** Default: the payload's `id`, else a random `msg_...`. */
  id?: string;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = 'whsec_';

/**
 * Webhook signature verification. Two schemes, both on every BYO delivery:
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`),
 *   which also covers the timestamp, so it protects against replays. Required by default.
 * - `X-BYO-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the secret string.
 *   It covers no timestamp, so it is accepted only with `allowBodyOnlySignature: true`.
 */
export class Webhooks {
  /**
   * Checks the signature and returns the event, or throws `WebhookVerificationError` saying what
   * is wrong. Pass the raw body exactly as received (not parsed and re-serialised JSON).
   */
  async verify(
    payload: WebhookPayload,
    headers: HeadersLike,
    secret: string | readonly string[],
    options: VerifyOptions = {},
  ): Promise<WebhookEvent> {
    const bytes = payloadBytes(payload);
    const secrets = secretList(secret);
    if (!headers || typeof headers !== 'object') fail('invalid_argument', 'Pass the request headers as the second argument.');
    const id = getHeader(headers, 'webhook-id');
    const ts = getHeader(headers, 'webhook-timestamp');
    const sig = getHeader(headers, 'webhook-signature');
    const byoSig = getHeader(headers, 'x-byo-signature');

    // Once any webhook-* header is there, only that scheme counts: no downgrade to the body-only one.
    if (id !== undefined || ts !== undefined || sig !== undefined) {
      await verifyStandard(bytes, { id, ts, sig }, secrets, options);
    } else if (byoSig !== undefined && options.allowBodyOnlySignature === true) {
      await verifyByoSignature(bytes, byoSig, secrets);
    } else if (byoSig !== undefined) {
      fail(
        'body_only_signature',
        'Missing webhook-id, webhook-timestamp and webhook-signature: only X-BYO-Signature is present, which signs the body alone, so a replayed delivery passes it too. BYO sends both; pass the request headers unchanged and check that no proxy strips the webhook-* ones. To accept body-only signatures anyway, pass { allowBodyOnlySignature: true } and refuse event ids you have already processed.',
      );
    } else {
      fail(
        'signature_headers_missing',
        'Missing signature headers: expected webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks). Pass the request headers unchanged; check that no proxy strips them.',
      );
    }

    let event: unknown;
    try {
      event = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      fail('invalid_event', 'The signature is valid but the body is not JSON.');
    }
    if (!isObject(event) || typeof event.id !== 'string' || typeof event.type !== 'string')
      fail('invalid_event', 'The signature is valid but the body is not a BYO event (no id or type).');
    return event as unknown as WebhookEvent;
  }

  /**
   * Headers for a signed delivery of `payload`, as BYO would send them, so you can test your
   * own handler: `await handler(new Request(url, { method: 'POST', headers, body: payload }))`.
   */
  async generateTestHeaders(params: TestHeadersParams): Promise<Record<string, string>> {
    const bytes = payloadBytes(params.payload);
    const secrets = secretList(params.secret);
    const seconds = Math.floor((params.timestamp ?? new Date()).getTime() / 1000);
    let id = params.id;
    if (!id) {
      try {
        const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown };
        if (typeof parsed.id === 'string') id = parsed.id;
      } catch {
        /* not JSON */
      }
    }
    id ??= `msg_${uuid4().replace(/-/g, '')}`;
    const signed = concat(encodeUtf8(`${id}.${seconds}.`), bytes);
    const standard: string[] = [];
    const byo: string[] = [];
    for (const s of secrets) {
      standard.push(`v1,${toBase64(await hmacSign(await hmacKey(standardKey(s)), signed))}`);
      byo.push(toHex(await hmacSign(await hmacKey(encodeUtf8(s)), bytes)));
    }
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(seconds),
      'webhook-signature': standard.join(' '),
      'x-byo-event-id': id,
      'x-byo-timestamp': String(seconds),
      'x-byo-signature': byo.join(','),
    };
  }
}

async function verifyStandard(
  body: Uint8Array<ArrayBuffer>,
  h: { id: string | undefined; ts: string | undefined; sig: string | undefined },
  secrets: string[],
  options: VerifyOptions,
): Promise<void> {
  for (const [name, v] of [
    ['webhook-id', h.id],
    ['webhook-timestamp', h.ts],
    ['webhook-signature', h.sig],
  ] as const)
    if (!v)
      fail(
        'invalid_signature_header',
        `Missing header ${name}: Standard Webhooks needs webhook-id, webhook-timestamp and webhook-signature.`,
      );
  const ts = h.ts!.trim();
  if (!/^\d+$/.test(ts)) fail('invalid_signature_header', `Invalid webhook-timestamp "${ts.slice(0, 40)}": expected Unix time in seconds.`);
  const candidates = h
    .sig!.split(' ')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('v1,'))
    .map((p) => fromBase64(p.slice(3)))
    .filter((b): b is Uint8Array<ArrayBuffer> => b !== undefined);
  if (candidates.length === 0)
    fail('invalid_signature_header', 'webhook-signature holds no "v1,<base64>" signature: this is not a Standard Webhooks HMAC signature.');
  const signed = concat(encodeUtf8(`${h.id}.${ts}.`), body);
  if (!(await anyMatches(secrets.map(standardKey), candidates, signed)))
    fail(
      'signature_mismatch',
      `No signature matches: webhook-signature carries ${candidates.length} v1 signature(s) and none was made with the given secret over this body. Use this endpoint's secret (whsec_...) and the raw body exactly as received.`,
    );
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = Math.floor((options.currentTime ?? new Date()).getTime() / 1000);
  const age = now - Number(ts);
  if (age > tolerance)
    fail(
      'timestamp_too_old',
      `Stale timestamp: webhook-timestamp is ${age} s old (tolerance ${tolerance} s). This may be a replayed delivery; if your clock is wrong, fix it.`,
    );
  if (-age > tolerance)
    fail(
      'timestamp_in_future',
      `Timestamp in the future: webhook-timestamp is ${-age} s ahead of this machine's clock (tolerance ${tolerance} s). Check the clock.`,
    );
}

async function verifyByoSignature(body: Uint8Array<ArrayBuffer>, header: string, secrets: string[]): Promise<void> {
  const candidates = header
    .split(',')
    .map((p) => p.trim().replace(/^sha256=/, ''))
    .map((p) => fromHex(p))
    .filter((b): b is Uint8Array<ArrayBuffer> => b !== undefined && b.length === 32);
  if (candidates.length === 0) fail('invalid_signature_header', 'X-BYO-Signature holds no hex HMAC-SHA256 signature.');
  if (!(await anyMatches(secrets.map(encodeUtf8), candidates, body)))
    fail(
      'signature_mismatch',
      "No signature matches: X-BYO-Signature was not made with the given secret over this body. Use this endpoint's secret (whsec_...) and the raw body exactly as received.",
    );
}

/** Checks every candidate against every key (no early exit on the first byte: Web Crypto's verify is constant-time). */
async function anyMatches(
  keys: Uint8Array<ArrayBuffer>[],
  candidates: Uint8Array<ArrayBuffer>[],
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  let ok = false;
  for (const k of keys) {
    const key = await hmacKey(k);
    for (const c of candidates) if (await hmacVerify(key, c, message)) ok = true;
  }
  return ok;
}

/** Standard Webhooks: the key is the base64 after `whsec_`. */
function standardKey(secret: string): Uint8Array<ArrayBuffer> {
  const raw = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = fromBase64(raw);
  if (!key || key.length === 0) fail('invalid_argument', 'The secret is not a webhook secret: expected "whsec_" followed by base64.');
  return key;
}

function secretList(secret: string | readonly string[]): string[] {
  const list = (typeof secret === 'string' ? [secret] : [...(secret ?? [])]).map((s) => (typeof s === 'string' ? s.trim() : s));
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s === ''))
    fail('invalid_argument', "No webhook secret given: pass the endpoint's secret (whsec_...), e.g. from an environment variable.");
  return list;
}

function payloadBytes(payload: WebhookPayload): Uint8Array<ArrayBuffer> {
  if (typeof payload === 'string') return encodeUtf8(payload);
  if (ArrayBuffer.isView(payload))
    return new Uint8Array(payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength) as ArrayBuffer);
  if (payload instanceof ArrayBuffer || Object.prototype.toString.call(payload) === '[object ArrayBuffer]')
    return new Uint8Array((payload as ArrayBuffer).slice(0));
  fail(
    'invalid_argument',
    'Pass the raw request body (a string or bytes) exactly as received, not parsed JSON: re-serialising changes the bytes the signature covers.',
  );
}

function fail(code: WebhookVerificationErrorCode, message: string): never {
  throw new WebhookVerificationError(message, { code });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Usable without a client or API key: `import { webhooks } from 'byo-sdk'`. */
export const webhooks: Webhooks = new Webhooks();

/** `byok.webhooks`: verification, plus the endpoints and deliveries of your project. */
export class WebhooksResource extends Webhooks {
  readonly endpoints: WebhookEndpoints;
  readonly deliveries: WebhookDeliveries;
  constructor(transport: Transport) {
    super();
    this.endpoints = new WebhookEndpoints(transport);
    this.deliveries = new WebhookDeliveries(transport);
  }
}
