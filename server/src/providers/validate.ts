import { type Dispatcher, request } from 'undici';
import type { Mode } from '../db/schema.js';
import { SsrfError } from '../net/ssrf.js';
import { isSandboxKey, type ProviderSpec, SANDBOX_VALID_KEY } from './catalog.js';

export type ValidationResult = 'valid' | 'invalid' | 'unknown';

export interface ValidationOutcome {
  result: ValidationResult;
  providerStatus: number | null;
  reason: string | null;
}

export interface ValidateDeps {
  trusted: Dispatcher;
  guarded: Dispatcher;
  sandbox: boolean;
  timeoutMs?: number;
}

/**
 * Asks the provider whether it accepts the key with its registry probe (a models list, or a
 * call refused for its body after the key is checked), key in a header (never the URL).
 * 401/403 is "invalid"; timeouts, 429 and 5xx are "unknown" (REL-1).
 */
export async function validateWithProvider(
  spec: ProviderSpec,
  mode: Mode,
  key: string,
  baseUrl: string | null,
  deps: ValidateDeps,
): Promise<ValidationOutcome> {
  if (mode === 'test' && deps.sandbox && isSandboxKey(key)) {
    return key === SANDBOX_VALID_KEY
      ? { result: 'valid', providerStatus: 200, reason: null }
      : { result: 'invalid', providerStatus: 401, reason: 'The provider rejected the key (sandbox: sk-byo-test-invalid).' };
  }
  const base = (baseUrl ?? spec.defaultBase).replace(/\/+$/, '');
  const timeout = deps.timeoutMs ?? 10_000;
  try {
    const probe = spec.validation;
    const res = await request(`${base}${probe.path}`, {
      method: probe.method,
      headers: {
        [spec.authHeader]: spec.authValue(key),
        accept: 'application/json',
        ...(probe.body ? { 'content-type': 'application/json' } : {}),
      },
      body: probe.body,
      dispatcher: baseUrl ? deps.guarded : deps.trusted,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    const s = res.statusCode;
    if (probe.acceptedStatuses ? probe.acceptedStatuses.includes(s) : s >= 200 && s < 300)
      return { result: 'valid', providerStatus: s, reason: null };
    if (s === 401 || s === 403) return { result: 'invalid', providerStatus: s, reason: `The provider rejected the key (HTTP ${s}).` };
    return { result: 'unknown', providerStatus: s, reason: `The provider could not check the key (HTTP ${s}); try again later.` };
  } catch (err) {
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
