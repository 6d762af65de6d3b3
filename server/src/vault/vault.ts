import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';
import { pooledRandomBytes } from './random.js';

/**
 * Envelope encryption: a fresh 32-byte data key per record encrypts the secret
 * with AES-256-GCM; the data key is wrapped by the active master key. Both layers bind the
 * record's context as associated data, so a ciphertext copied to another row fails.
 * Layout of each blob: version(1) | iv(12) | ciphertext | tag(16).
 */
export const FORMAT_VERSION = 1;
const IV_LEN = 12;
const TAG_LEN = 16;

export interface Sealed {
  ciphertext: Buffer;
  wrappedKey: Buffer;
  masterKeyId: string;
}

/** The record a ciphertext belongs to; encoded unambiguously as a JSON array. */
export type AadContext = readonly (string | number)[];

export class DecryptError extends Error {
  constructor(message = 'decryption failed') {
    super(message);
    this.name = 'DecryptError';
  }
}

export function encodeAad(kind: string, context: AadContext): Buffer {
  return Buffer.from(JSON.stringify([FORMAT_VERSION, kind, ...context]), 'utf8');
}

function gcmEncrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  // Unique per encryption (96 random bits); not secret, so from the pool.
  const iv = pooledRandomBytes(IV_LEN);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, ct, cipher.getAuthTag()]);
}

function gcmDecrypt(key: Buffer, blob: Buffer, aad: Buffer): Buffer {
  if (blob.length < 1 + IV_LEN + TAG_LEN) throw new DecryptError('ciphertext too short');
  if (blob[0] !== FORMAT_VERSION) throw new DecryptError('unknown ciphertext format version');
  const iv = blob.subarray(1, 1 + IV_LEN);
  const tag = blob.subarray(blob.length - TAG_LEN);
  const ct = blob.subarray(1 + IV_LEN, blob.length - TAG_LEN);
  if (tag.length !== TAG_LEN) throw new DecryptError('bad tag length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new DecryptError();
  }
}

export class Vault {
  constructor(readonly keyring: Keyring) {}

  seal(kind: string, context: AadContext, plaintext: string): Sealed {
    const aad = encodeAad(kind, context);
    const dek = randomBytes(32);
    try {
      const ciphertext = gcmEncrypt(dek, Buffer.from(plaintext, 'utf8'), aad);
      const mk = this.keyring.active;
      const wrappedKey = gcmEncrypt(mk.key, dek, encodeAad(`${kind}:dek:${mk.id}`, context));
      return { ciphertext, wrappedKey, masterKeyId: mk.id };
    } finally {
      dek.fill(0);
    }
  }

  open(kind: string, context: AadContext, sealed: Sealed): string {
    const dek = this.unwrap(kind, context, sealed);
    try {
      return gcmDecrypt(dek, sealed.ciphertext, encodeAad(kind, context)).toString('utf8');
    } finally {
      dek.fill(0);
    }
  }

  /** Re-wraps the data key under the active master key; the data ciphertext is untouched. */
  rewrap(kind: string, context: AadContext, sealed: Sealed): Sealed {
    const dek = this.unwrap(kind, context, sealed);
    try {
      // Prove the pair still decrypts before committing to the new wrap.
      gcmDecrypt(dek, sealed.ciphertext, encodeAad(kind, context));
      const mk = this.keyring.active;
      return {
        ciphertext: sealed.ciphertext,
        wrappedKey: gcmEncrypt(mk.key, dek, encodeAad(`${kind}:dek:${mk.id}`, context)),
        masterKeyId: mk.id,
      };
    } finally {
      dek.fill(0);
    }
  }

  private unwrap(kind: string, context: AadContext, sealed: Sealed): Buffer {
    const mk = this.keyring.get(sealed.masterKeyId);
    if (!mk) throw new DecryptError(`master key ${sealed.masterKeyId} is not in the keyring`);
    return gcmDecrypt(mk.key, sealed.wrappedKey, encodeAad(`${kind}:dek:${mk.id}`, context));
  }
}
