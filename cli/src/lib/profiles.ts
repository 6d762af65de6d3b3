import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Stored logins, one JSON file (mode 0600, in a 0700 directory) under the user's config dir:
 * `$XDG_CONFIG_HOME/byo/profiles.json` (or `~/.config/byo`, or `$BYO_CONFIG_DIR`).
 */
export interface Profile {
  url: string;
  adminToken?: string | undefined;
  secretKey?: string | undefined;
  updatedAt?: string;
}

interface ProfileFile {
  version: 1;
  profiles: Record<string, Profile>;
}

export const PROFILE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class ProfileStore {
  readonly path: string;
  constructor(readonly dir: string) {
    this.path = join(dir, 'profiles.json');
  }

  /** true when the file is readable by group or others (it holds secrets). */
  tooOpen(): boolean {
    if (process.platform === 'win32' || !existsSync(this.path)) return false;
    return (statSync(this.path).mode & 0o077) !== 0;
  }

  private read(): ProfileFile {
    if (!existsSync(this.path)) return { version: 1, profiles: {} };
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as ProfileFile;
      if (!parsed || typeof parsed.profiles !== 'object') throw new Error('bad shape');
      return parsed;
    } catch {
      throw new Error(`${this.path} is not a valid profiles file. Fix or delete it, then run \`byo login\` again.`);
    }
  }

  private write(file: ProfileFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  get(name: string): Profile | undefined {
    return this.read().profiles[name];
  }

  names(): string[] {
    return Object.keys(this.read().profiles);
  }

  set(name: string, profile: Profile): void {
    const file = this.read();
    file.profiles[name] = { ...profile, updatedAt: new Date().toISOString() };
    this.write(file);
  }

  /** Returns false when there was no such profile. */
  remove(name: string): boolean {
    const file = this.read();
    if (!file.profiles[name]) return false;
    delete file.profiles[name];
    this.write(file);
    return true;
  }
}

/** The last four characters, enough to tell credentials apart. */
export function hint(secret: string): string {
  return secret.length <= 8 ? '****' : `${secret.slice(0, secret.startsWith('byo_') ? 12 : 0)}...${secret.slice(-4)}`;
}
