import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomId } from '../../src/auth/api-key-format.js';
import type { Mode } from '../../src/db/schema.js';
import { aadFor, PROVIDER_KEY_KIND } from '../../src/vault/aad.js';
import type { Services } from '../../src/services.js';
import { usingPostgres } from '../helpers/server.js';

/** `id:base64` for a fresh 32-byte master key. */
export const masterKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/**
 * Env for servers that must share one database across restarts: the same PostgreSQL schema,
 * or the same on-disk PGlite data dir.
 */
export function persistentStorage(): { env: Record<string, string>; cleanup: () => void } {
  if (usingPostgres) return { env: { BYO_DATABASE_SCHEMA: `t_${randomBytes(6).toString('hex')}` }, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'byo-rotation-'));
  return { env: { BYO_EMBEDDED_STORAGE: 'disk', BYO_DATA_DIR: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Stores `count` provider keys fast: sealed by the server's own vault (exactly as connectKey
 * does), inserted in multi-row batches. refIds are `${prefix}${i}`.
 */
export async function seedProviderKeys(
  services: Services,
  opts: { projectId: string; mode: Mode; count: number; prefix?: string; providerKey?: string },
): Promise<void> {
  const prefix = opts.prefix ?? 'bulk_';
  const plaintext = opts.providerKey ?? 'sk-byo-test-valid';
  const now = new Date();
  for (let start = 0; start < opts.count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(opts.count, start + 500); i++) {
      const r = { id: randomId('key'), project_id: opts.projectId, mode: opts.mode, provider: 'openai' as const, ref_id: `${prefix}${i}` };
      const sealed = services.vault.seal(PROVIDER_KEY_KIND, aadFor(r), plaintext);
      rows.push({
        ...r,
        status: 'active' as const,
        key_hint: 'sk-...alid',
        base_url: null,
        ciphertext: sealed.ciphertext,
        wrapped_key: sealed.wrappedKey,
        master_key_id: sealed.masterKeyId,
        created_at: now,
        updated_at: now,
      });
    }
    await services.db.insertInto('provider_keys').values(rows).execute();
  }
}

/**
 * `env(keys)`: the env of a server on `storage` with the keyring `keys` and `adminToken`, no
 * webhook dispatcher (endpoints are created, never delivered to) and 127.0.0.1 allowed as their host.
 */
export function keyringEnv(storage: { env: Record<string, string> }, adminToken: string): (keys: string) => Record<string, string> {
  return (keys) => ({
    ...storage.env,
    BYO_ADMIN_TOKEN: adminToken,
    BYO_MASTER_KEYS: keys,
    BYO_WEBHOOKS: 'false',
    BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1',
  });
}
