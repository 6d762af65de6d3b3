import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Authenticator, KeyPrincipal, Principal } from '../auth/authenticator.js';
import { hashSecret } from '../auth/api-key-format.js';
import type { Database } from '../db/schema.js';
import { BYOError } from '../errors.js';
import { pooledRandomBytes } from '../vault/random.js';

/**
 * Operator dashboard sessions (docs/dashboard.md). A secret key or the admin token is
 * presented once, at sign-in, and exchanged for a random session token that the browser keeps
 * in an HttpOnly cookie; only its hash is stored. Sessions live in the database so every worker
 * and instance agrees, and they end on sign-out, after an idle period, at a maximum age, when
 * the secret key behind them is revoked or expires, or when the admin token changes.
 */

export interface SessionTimes {
  idleMs: number;
  maxAgeMs: number;
}

export interface ResolvedSession {
  id: string;
  principal: Principal;
  expiresAt: Date;
}

/** last_seen_at is written at most this often (or every half idle timeout, if shorter), so reads do not each cost a write. */
const TOUCH_EVERY_MS = 60_000;

const expired = () => new BYOError('session_expired', 'Your dashboard session has ended. Sign in again.');

/**
 * The CSRF token of a session: derived from the session token, so nothing more is stored, and
 * readable only by a page that can call the session procedure (same origin; the cookie is
 * SameSite=Strict). Every state-changing call sends it in `x-byo-csrf`.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('byo-dashboard-csrf').digest('base64url');
}

export function csrfMatches(sessionToken: string, presented: string | null): boolean {
  if (!presented) return false;
  const want = csrfTokenFor(sessionToken);
  // Same length (both base64url of 32 bytes) or not equal at all; compare hashes in constant time.
  return hashSecret(presented) === hashSecret(want);
}

/**
 * Checks the secret presented at sign-in and stores a session for it. A publishable key is
 * refused (it may only connect keys); anything else that is not a live secret key or the admin
 * token gets one clear 401.
 */
export async function signIn(
  db: Kysely<Database>,
  auth: Authenticator,
  secret: string,
  meta: { ip: string; userAgent: string | null },
  times: SessionTimes,
): Promise<{ token: string; session: ResolvedSession }> {
  const s = secret.trim();
  let principal: Principal;
  if (/^byo_(pk|sk)_/.test(s)) {
    principal = await auth.authenticateKey(s).catch((e: unknown) => {
      throw e instanceof BYOError && e.code === 'api_key_expired' ? e : wrongSecret();
    });
    if (principal.kind !== 'sk')
      throw new BYOError('permission_denied', 'A publishable key (byo_pk_) cannot sign in: use a secret key (byo_sk_) or the admin token.');
  } else if (auth.isAdminToken(s)) {
    principal = { type: 'admin' };
  } else {
    throw wrongSecret();
  }
  const token = `byo_ds_${randomBytes(32).toString('base64url')}`;
  const now = Date.now();
  const row = {
    id: `ds_${pooledRandomBytes(12).toString('base64url')}`,
    token_hash: hashSecret(token),
    principal: principal.type,
    api_key_id: principal.type === 'key' ? principal.keyId : null,
    admin_hash: principal.type === 'admin' ? hashSecret(s) : null,
    ip: meta.ip,
    user_agent: meta.userAgent?.slice(0, 512) ?? null,
    created_at: new Date(now),
    last_seen_at: new Date(now),
    expires_at: new Date(now + times.maxAgeMs),
  };
  await db.insertInto('dashboard_sessions').values(row).execute();
  return { token, session: { id: row.id, principal, expiresAt: row.expires_at } };
}

function wrongSecret(): BYOError {
  return new BYOError(
    'unauthorized',
    'That is not a valid secret key or admin token. Paste a secret key (byo_sk_...) or the admin token (BYO_ADMIN_TOKEN).',
  );
}

/** The principal behind a session token, or 401 session_expired; refreshes its idle clock. */
export async function resolveSession(
  db: Kysely<Database>,
  auth: Authenticator,
  token: string,
  times: SessionTimes,
): Promise<ResolvedSession> {
  const row = await db
    .selectFrom('dashboard_sessions as s')
    .leftJoin('api_keys as k', 'k.id', 's.api_key_id')
    .select(['s.id', 's.principal', 's.admin_hash', 's.last_seen_at', 's.expires_at'])
    .select(['k.id as key_id', 'k.project_id', 'k.kind', 'k.mode', 'k.revoked_at', 'k.expires_at as key_expires_at'])
    .where('s.token_hash', '=', hashSecret(token))
    .executeTakeFirst();
  if (!row) throw expired();
  const now = Date.now();
  const idle = now - row.last_seen_at.getTime() > times.idleMs;
  const keyGone =
    row.principal === 'key' &&
    (!row.key_id || row.revoked_at !== null || (row.key_expires_at !== null && row.key_expires_at.getTime() <= now));
  const adminGone = row.principal === 'admin' && !auth.isAdminHash(row.admin_hash ?? '');
  if (idle || now >= row.expires_at.getTime() || keyGone || adminGone) {
    await db.deleteFrom('dashboard_sessions').where('id', '=', row.id).execute();
    throw expired();
  }
  if (now - row.last_seen_at.getTime() > Math.min(TOUCH_EVERY_MS, times.idleMs / 2))
    await db
      .updateTable('dashboard_sessions')
      .set({ last_seen_at: new Date(now) })
      .where('id', '=', row.id)
      .execute();
  let principal: Principal = { type: 'admin' };
  if (row.principal === 'key') {
    const project = await db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', row.project_id as string)
      .executeTakeFirst();
    if (!project || !row.key_id || !row.kind || !row.mode) throw expired();
    principal = Object.freeze({
      type: 'key',
      keyId: row.key_id,
      kind: row.kind,
      mode: row.mode,
      projectId: project.id,
      project,
    }) satisfies KeyPrincipal;
  }
  return { id: row.id, principal, expiresAt: row.expires_at };
}

/** Ends a session (sign-out); also drops sessions that ended on their own, so the table stays small. */
export async function signOut(db: Kysely<Database>, token: string, times: SessionTimes): Promise<void> {
  await db.deleteFrom('dashboard_sessions').where('token_hash', '=', hashSecret(token)).execute();
  await db
    .deleteFrom('dashboard_sessions')
    .where((eb) => eb.or([eb('expires_at', '<', new Date()), eb('last_seen_at', '<', new Date(Date.now() - times.idleMs))]))
    .execute();
}
