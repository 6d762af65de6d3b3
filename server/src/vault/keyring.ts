import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MasterKey {
  id: string;
  key: Buffer;
}

/** A versioned set of master keys (KEKs); the first is active, the rest decrypt older rows. */
export class Keyring {
  readonly active: MasterKey;
  private readonly byId: Map<string, MasterKey>;
  constructor(keys: MasterKey[]) {
    if (keys.length === 0) throw new KeyringError('BYO_MASTER_KEYS holds no key');
    this.active = keys[0] as MasterKey;
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }
  get(id: string): MasterKey | undefined {
    return this.byId.get(id);
  }
  ids(): string[] {
    return [...this.byId.keys()];
  }
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** Parses `id:base64,id2:base64`. Errors name the entry's position and id, never the key. */
export function parseKeyring(spec: string): Keyring {
  const keys: MasterKey[] = [];
  const seen = new Set<string>();
  spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const idx = entry.indexOf(':');
      if (idx <= 0) throw new KeyringError(`BYO_MASTER_KEYS entry ${i + 1}: expected "id:base64"`);
      const id = entry.slice(0, idx);
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new KeyringError(`BYO_MASTER_KEYS entry ${i + 1}: bad id`);
      const key = Buffer.from(entry.slice(idx + 1), 'base64');
      if (key.length !== 32) throw new KeyringError(`BYO_MASTER_KEYS entry ${i + 1} (${id}): the key must be 32 bytes, base64-encoded`);
      if (seen.has(id)) throw new KeyringError(`BYO_MASTER_KEYS: duplicate id ${id}`);
      seen.add(id);
      keys.push({ id, key });
    });
  return new Keyring(keys);
}

export function generateMasterKeySpec(id = `mk${Date.now().toString(36)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Embedded dev mode only: a key file under the data dir, mode 0600. Returns the spec and
 * whether it was just created (the caller logs a warning).
 */
export function loadOrCreateDevKeyFile(dataDir: string): { spec: string; created: boolean; path: string } {
  const path = join(dataDir, 'master.key');
  if (existsSync(path)) return { spec: readFileSync(path, 'utf8').trim(), created: false, path };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const spec = generateMasterKeySpec('dev1');
  writeFileSync(path, `${spec}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { spec, created: true, path };
}
