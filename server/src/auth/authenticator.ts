import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Project } from '../db/schema.js';
import type { Storage } from '../db/database.js';
import { BYOError, unauthorized } from '../errors.js';
import { hashSecret, type KeyKind, type Mode, parseApiKey } from './key-format.js';

export type KeyPrincipal = Readonly<{ type: 'key'; keyId: string; kind: KeyKind; mode: Mode; projectId: string; project: Project }>;
export type Principal = { type: 'admin' } | KeyPrincipal;

interface Entry {
  /** Shared by every request the entry answers (read-only), so a cache hit allocates nothing. */
  principal: KeyPrincipal;
  expiresAt: number | null;
  loadedAt: number;
}

export const AUTH_CHANNEL = 'byo_auth';

/**
 * Turns a presented credential into a principal. API keys are looked up by hash through a
 * short-lived in-memory cache (the proxy's hot path), invalidated on every instance when a
 * key is revoked or rolled, or a project changes (LISTEN/NOTIFY).
 */
export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly adminHash: Buffer | null;
  /**
   * Bumped by every invalidation: a load that started before one may have read the old row,
   * so its result answers its own request but is not cached. Invalidations are rare (a key
   * revoked or rolled, a project changed), so one counter for all keys is enough.
   */
  private generation = 0;

  constructor(
    private readonly storage: Storage,
    adminToken: string | undefined,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.adminHash = adminToken ? Buffer.from(hashSecret(adminToken), 'hex') : null;
  }

  async start(): Promise<void> {
    await this.storage.listen(
      AUTH_CHANNEL,
      (payload) => this.onInvalidate(payload),
      // Notifications sent while the LISTEN connection was down are lost: start over when it is back.
      (listening) => {
        if (listening) this.onInvalidate('*');
      },
    );
  }

  private onInvalidate(payload: string): void {
    this.generation++;
    if (payload === '*') {
      this.cache.clear();
      return;
    }
    if (payload.startsWith('project:')) {
      const id = payload.slice(8);
      for (const [h, e] of this.cache) if (e.principal.projectId === id) this.cache.delete(h);
      return;
    }
    this.cache.delete(payload);
  }

  /** Broadcasts an invalidation (key hash, `project:<id>` or `*`) to every instance, this one included. */
  async invalidate(payload: string): Promise<void> {
    this.onInvalidate(payload);
    await this.storage.notify(AUTH_CHANNEL, payload);
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

  /** Resolves a BYO API key; every failure is the same 401 (KEY-7). */
  async authenticateKey(token: string): Promise<KeyPrincipal> {
    const hash = hashSecret(token);
    const now = this.now();
    const hit = this.fresh(this.cache.get(hash), now);
    if (hit) return hit;
    // Only a key that passed this check is ever cached, so a cache hit skips it.
    if (!parseApiKey(token)) throw unauthorized(); // bad shape or checksum: no database query (KEY-1)
    const entry = await this.load(hash, now);
    return this.fresh(entry, now, true) as KeyPrincipal;
  }

  /**
   * The principal of a key this instance has cached and still trusts, without a promise (the
   * proxy's hot path: two awaits cost more than the lookup); `undefined` when
   * `authenticateKey()` must load it. Throws as `authenticateKey()` would for an expired key.
   */
  cachedKey(token: string): KeyPrincipal | undefined {
    return this.fresh(this.cache.get(hashSecret(token)), this.now());
  }

  private fresh(entry: Entry | undefined, now: number, justLoaded = false): KeyPrincipal | undefined {
    if (!entry || (!justLoaded && now - entry.loadedAt > this.ttlMs)) return undefined;
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

  private async load(hash: string, now: number): Promise<Entry> {
    const db: Kysely<Database> = this.storage.db;
    const generation = this.generation;
    const row = await db
      .selectFrom('api_keys')
      .innerJoin('projects', 'projects.id', 'api_keys.project_id')
      .select(['api_keys.id as key_id', 'api_keys.kind', 'api_keys.mode', 'api_keys.expires_at', 'api_keys.revoked_at'])
      .selectAll('projects')
      .where('api_keys.key_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at) {
      this.cache.delete(hash);
      throw unauthorized();
    }
    const { key_id, kind, mode, expires_at, revoked_at: _r, ...project } = row;
    const entry: Entry = {
      principal: Object.freeze({ type: 'key', keyId: key_id, kind, mode, projectId: project.id, project: project as Project }),
      expiresAt: expires_at ? expires_at.getTime() : null,
      loadedAt: now,
    };
    if (generation !== this.generation) return entry;
    if (this.cache.size >= this.maxEntries) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(hash, entry);
    return entry;
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
