import { randomUUID } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import { BYOError } from '../errors.js';
import type { Mode } from '../db/schema.js';
import { SsrfError } from '../net/ssrf.js';
import { isSandboxKey, type ProviderSpec, SANDBOX_VALID_KEY } from './catalog.js';
import { modelIds } from './model-list.js';
import type { KeySettings, SignerDeps, UpstreamSigner, ValidationProbe } from './types.js';
import { TokenRefusedError } from './vertex/token.js';

export type ValidationResult = 'valid' | 'invalid' | 'unknown';

export interface ValidationOutcome {
  result: ValidationResult;
  providerStatus: number | null;
  reason: string | null;
  /** The model ids the probe's answer listed (a valid key whose probe is a model listing); else absent. */
  models?: string[] | null;
}

/** A model listing read whole up to this size (OpenRouter's, the largest, is about 1 MiB); past it, no list. */
const LISTING_LIMIT = 4 * 1024 * 1024;

export interface ValidateDeps {
  trusted: Dispatcher;
  guarded: Dispatcher;
  sandbox: boolean;
  timeoutMs?: number;
  /** What a signed provider's signer needs (services.signing); without it such a key cannot be checked. */
  signing?: SignerDeps;
}

/**
 * Asks the provider whether it accepts the key with its registry probe (a models list, or a
 * call refused for its body after the key is checked), key in a header (never the URL).
 * 401/403 is "invalid"; timeouts, 429 and 5xx are "unknown".
 */
export async function validateWithProvider(
  spec: ProviderSpec,
  mode: Mode,
  key: string,
  baseUrl: string | null,
  deps: ValidateDeps,
  settings: KeySettings | null = null,
): Promise<ValidationOutcome> {
  if (mode === 'test' && deps.sandbox && isSandboxKey(key)) {
    return key === SANDBOX_VALID_KEY
      ? { result: 'valid', providerStatus: 200, reason: null }
      : { result: 'invalid', providerStatus: 401, reason: 'The provider rejected the key (sandbox: sk-byo-test-invalid).' };
  }
  const timeout = deps.timeoutMs ?? 10_000;
  try {
    const { signer } = spec;
    const probe = signer ? withSettings(spec.validation, settings ?? {}) : spec.validation;
    const base = (signer ? signer.base(settings ?? {}, spec.configuredBase) : (baseUrl ?? spec.defaultBase)).replace(/\/+$/, '');
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(probe.body ? { 'content-type': 'application/json' } : {}),
    };
    if (signer) Object.assign(headers, await signedHeaders(signer, key, settings ?? {}, probe, base, headers, deps));
    else headers[spec.authHeader] = spec.authValue(key);
    const res = await request(`${base}${probe.path}`, {
      method: probe.method,
      headers,
      body: probe.body,
      dispatcher: baseUrl ? deps.guarded : deps.trusted,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    const s = res.statusCode;
    // A signed provider's probe is not a model list (Bedrock's ListAsyncInvokes, Vertex's model registry): no entitlements from it.
    const listing = !signer && probe.method === 'GET' && s >= 200 && s < 300 ? await readListing(res.body) : null;
    if (listing === null) await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    const verdict = signer?.classifyProbe?.(s, res.headers);
    if (verdict === 'valid' || (!verdict && (probe.acceptedStatuses ? probe.acceptedStatuses.includes(s) : s >= 200 && s < 300)))
      return { result: 'valid', providerStatus: s, reason: null, models: listing };
    if (verdict === 'invalid' || (!verdict && (s === 401 || s === 403)))
      return { result: 'invalid', providerStatus: s, reason: `The provider rejected the key (HTTP ${s}).` };
    return { result: 'unknown', providerStatus: s, reason: `The provider could not check the key (HTTP ${s}); try again later.` };
  } catch (err) {
    if (err instanceof BYOError) {
      // A refused token exchange is the provider refusing the key; the signer's other errors say what failed.
      const invalid = err instanceof TokenRefusedError;
      return { result: invalid ? 'invalid' : 'unknown', providerStatus: invalid ? 401 : null, reason: err.message };
    }
    if (err instanceof SsrfError || (err as { cause?: unknown }).cause instanceof SsrfError) {
      return { result: 'unknown', providerStatus: null, reason: 'The base URL points at an address BYO may not reach.' };
    }
    const code = (err as { code?: string }).code ?? (err as Error).name;
    const timedOut = /Timeout|ABORT/i.test(String(code));
    return {
      result: 'unknown',
      providerStatus: null,
      reason: timedOut ? 'The provider did not answer in time.' : 'The provider could not be reached.',
    };
  }
}

/** The model ids of a probe's 2xx answer, or null (not JSON, not a listing, too large). */
async function readListing(body: Dispatcher.ResponseData['body']): Promise<string[] | null> {
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > LISTING_LIMIT) {
        body.destroy();
        return null;
      }
      chunks.push(chunk);
    }
    return modelIds(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
  } catch {
    return null;
  }
}

/** The probe with the key's settings in its path (`{projectId}`, `{location}`). */
function withSettings(probe: ValidationProbe, settings: KeySettings): ValidationProbe {
  return { ...probe, path: probe.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(settings[name] ?? '')) };
}

/** The credential headers of a signed provider's probe (a fresh parse: validation is rare, and the key may be new). */
async function signedHeaders(
  signer: UpstreamSigner,
  key: string,
  settings: KeySettings,
  probe: ValidationProbe,
  base: string,
  headers: Record<string, string>,
  deps: ValidateDeps,
): Promise<Record<string, string>> {
  if (!deps.signing) throw new BYOError('internal_error', 'This key cannot be checked here (no signer).');
  const url = new URL(`${base}${probe.path}`);
  const credential = signer.parse(key, settings, `validate:${randomUUID()}`);
  try {
    return await signer.authorize(
      credential,
      {
        method: probe.method,
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers },
        body: probe.body ? Buffer.from(probe.body) : null,
      },
      deps.signing,
    );
  } finally {
    signer.forget?.(credential, deps.signing);
  }
}
