import { sign } from 'node:crypto';
import { request } from 'undici';
import { BYOError } from '../../errors.js';
import type { SignerDeps } from '../types.js';
import { GOOGLE_TOKEN_URI, type ServiceAccount } from './service-account.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** A token is replaced this long before Google says it expires (clock skew, long calls). */
const REFRESH_BEFORE_MS = 5 * 60_000;
const EXCHANGE_TIMEOUT_MS = 10_000;

/** Google refused the service-account key itself (`invalid_grant`, `invalid_client`): the key is not usable. */
export class TokenRefusedError extends BYOError {
  constructor(readonly googleError: string) {
    super(
      'key_invalid',
      `Google refused the service-account key (${googleError}): it was deleted, disabled or is not valid. Connect a new key.`,
    );
  }
}

interface Entry {
  token: string | null;
  expiresAt: number;
  pending: Promise<string> | null;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** The signed assertion of the JWT-bearer grant (RFC 7523), RS256 with the account's key. */
export function assertion(sa: ServiceAccount, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...(sa.privateKeyId ? { kid: sa.privateKeyId } : {}) }));
  const claims = b64url(JSON.stringify({ iss: sa.clientEmail, scope: SCOPE, aud: sa.tokenUri, iat, exp: iat + 3600 }));
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), sa.privateKey);
  return `${header}.${claims}.${b64url(signature)}`;
}

/**
 * Access tokens minted from service-account keys, one per stored key version, kept until
 * shortly before they expire. Many concurrent calls share one exchange. Tokens live in this
 * process's memory only: never logged, stored or returned.
 */
export class AccessTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max = 10_000) {}

  async get(id: string, sa: ServiceAccount, deps: SignerDeps): Promise<string> {
    let e = this.entries.get(id);
    const now = deps.now();
    if (e?.token && e.expiresAt - REFRESH_BEFORE_MS > now) return e.token;
    if (e?.pending) return e.pending;
    if (!e) {
      if (this.entries.size >= this.max) this.prune(now);
      e = { token: null, expiresAt: 0, pending: null };
      this.entries.set(id, e);
    }
    const entry = e;
    entry.pending = exchange(sa, deps).then(
      ({ token, expiresInS }) => {
        entry.token = token;
        entry.expiresAt = deps.now() + expiresInS * 1000;
        entry.pending = null;
        return token;
      },
      (err: unknown) => {
        entry.pending = null;
        throw err;
      },
    );
    return entry.pending;
  }

  /** Drops a key's token (the upstream refused it: the next call mints a new one). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  private prune(now: number): void {
    for (const [id, e] of this.entries) if (!e.pending && e.expiresAt <= now) this.entries.delete(id);
    if (this.entries.size >= this.max) this.entries.clear();
  }
}

/** One JWT-bearer exchange at the key's token endpoint. */
async function exchange(sa: ServiceAccount, deps: SignerDeps): Promise<{ token: string; expiresInS: number }> {
  const body = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: assertion(sa, deps.now()),
  }).toString();
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(sa.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      // Google's endpoint is known; any other was allowed by the operator and goes through the SSRF guard.
      dispatcher: sa.tokenUri === GOOGLE_TOKEN_URI ? deps.trusted : deps.guarded,
      headersTimeout: EXCHANGE_TIMEOUT_MS,
      bodyTimeout: EXCHANGE_TIMEOUT_MS,
      signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    });
  } catch {
    throw new BYOError('upstream_unreachable', "Could not reach Google's token endpoint to authorize the service account.");
  }
  const text = await res.body.text().catch(() => '');
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  if (res.statusCode === 200 && typeof json.access_token === 'string' && json.access_token) {
    const expires = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600;
    return { token: json.access_token, expiresInS: expires };
  }
  const error = typeof json.error === 'string' ? json.error : null;
  if (
    (res.statusCode === 400 || res.statusCode === 401) &&
    (error === 'invalid_grant' || error === 'invalid_client' || error === 'unauthorized_client')
  )
    throw new TokenRefusedError(error);
  throw new BYOError('upstream_unreachable', `Google's token endpoint did not issue a token (HTTP ${res.statusCode}); try again shortly.`);
}
