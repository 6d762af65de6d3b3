import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Project } from '../db/schema.js';
import { SyncedCache } from '../cache/synced-cache.js';
import type { Storage } from '../db/database.js';
import { BYOError, unauthorized } from '../errors.js';
import { hashSecret, type KeyKind, type Mode, parseApiKey } from './api-key-format.js';

export type KeyPrincipal = Readonly<{ type: 'key'; keyId: string; kind: KeyKind; mode: Mode; projectId: string; project: Project }>;
export type Principal = { type: 'admin' } | KeyPrincipal;

interface Entry {
  /** Shared by every request the entry answers (read-only), so a cache hit allocates nothing. */
  principal: KeyPrincipal;
  /** When the API key itself expires (a rolled key's grace period), or null. */
  expiresAt: number | null;
}

export const AUTH_CHANNEL = 'byo_auth';

/**
 * Turns a presented credential into a principal. API keys are looked up by hash through a
 * short-lived in-memory cache (the proxy's hot path), invalidated on every instance when a
 * key is revoked or rolled, or a project changes (LISTEN/NOTIFY). Expiry, eviction, the
 * stale-load guard and a lost channel are SyncedCache's.
 */
export class Authenticator {
  /** By key hash. A `project:<id>` invalidation drops every key of the project. */
  private readonly cache: SyncedCache<Entry>;
  private readonly adminHash: Buffer | null;

  constructor(
    private readonly storage: Storage,
    adminToken: string | undefined,
    ttlMs = 30_000,
    maxEntries = 10_000,
    now: () => number = Date.now,
  ) {
    this.adminHash = adminToken ? Buffer.from(hashSecret(adminToken), 'hex') : null;
    this.cache = new SyncedCache<Entry>(storage, {
      channel: AUTH_CHANNEL,
      ttlMs,
      max: maxEntries,
      now,
      select: (message) => {
        if (!message.startsWith('project:')) return message;
        const projectId = message.slice(8);
        return (e) => e.principal.projectId === projectId;
      },
    });
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  /** Broadcasts an invalidation (key hash, `project:<id>` or `*`) to every instance, this one included. */
  invalidate(payload: string): Promise<void> {
    return this.cache.invalidate(payload);
  }

  isAdminToken(token: string): boolean {
    if (!this.adminHash) return false;
    // Compare fixed-length hashes, so the comparison is constant-time whatever the input length.
    return timingSafeEqual(Buffer.from(hashSecret(token), 'hex'), this.adminHash);
  }

  /** Whether `hashHex` (hashSecret of a token) is the current admin token's: a dashboard session made with an old token ends. */
  isAdminHash(hashHex: string): boolean {
    if (!this.adminHash || !/^[0-9a-f]{64}$/.test(hashHex)) return false;
    return timingSafeEqual(Buffer.from(hashHex, 'hex'), this.adminHash);
  }

  /** Resolves a BYO API key; every failure is the same 401. */
  async authenticateKey(token: string): Promise<KeyPrincipal> {
    const hash = hashSecret(token);
    const now = this.cache.now();
    const hit = this.fresh(this.cache.get(hash, now), now);
    if (hit) return hit;
    // Only a key that passed this check is ever cached, so a cache hit skips it.
    if (!parseApiKey(token)) throw unauthorized(); // bad shape or checksum: no database query
    const entry = await this.cache.load(hash, () => this.read(hash));
    return this.fresh(entry, now) as KeyPrincipal;
  }

  /**
   * The principal of a key this instance has cached and still trusts, without a promise (the
   * proxy's hot path: two awaits cost more than the lookup); `undefined` when
   * `authenticateKey()` must load it. Throws as `authenticateKey()` would for an expired key.
   */
  cachedKey(token: string): KeyPrincipal | undefined {
    const now = this.cache.now();
    return this.fresh(this.cache.get(hashSecret(token), now), now);
  }

  /** The entry's principal, unless the API key itself has expired (then the 401 that says so). */
  private fresh(entry: Entry | undefined, now: number): KeyPrincipal | undefined {
    if (!entry) return undefined;
    if (entry.expiresAt !== null && now >= entry.expiresAt) {
      throw new BYOError('api_key_expired', 'This API key has expired. Use the key that replaced it when it was rolled.');
    }
    return entry.principal;
  }

  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token) throw unauthorized();
    // `byo_pk_`/`byo_sk_` only: the dev admin token (admin.token) is `byo_admin_...`.
    if (/^byo_(pk|sk)_/.test(token)) return this.authenticateKey(token);
    if (this.isAdminToken(token)) return { type: 'admin' };
    throw unauthorized();
  }

  private async read(hash: string): Promise<Entry> {
    const db: Kysely<Database> = this.storage.db;
    const row = await db
      .selectFrom('api_keys')
      .innerJoin('projects', 'projects.id', 'api_keys.project_id')
      .select(['api_keys.id as key_id', 'api_keys.kind', 'api_keys.mode', 'api_keys.expires_at', 'api_keys.revoked_at'])
      .selectAll('projects')
      .where('api_keys.key_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at) throw unauthorized();
    const { key_id, kind, mode, expires_at, revoked_at: _r, ...project } = row;
    return {
      principal: Object.freeze({ type: 'key', keyId: key_id, kind, mode, projectId: project.id, project: project as Project }),
      expiresAt: expires_at ? expires_at.getTime() : null,
    };
  }
}

/** Reads the credential from the headers each provider SDK uses for its key. */
export function credentialFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const x = headers['x-api-key'] ?? headers['x-goog-api-key'];
  return typeof x === 'string' ? x : undefined;
}
