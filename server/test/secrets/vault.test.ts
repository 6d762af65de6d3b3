import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyring, KeyringError, parseKeyring } from '../../src/vault/keyring.js';
import { DecryptError, encodeAad, type Sealed, Vault } from '../../src/vault/vault.js';

/** On the vault itself: envelope layout, AAD binding, tamper detection, keyring versions. */

const mk = (id: string) => ({ id, key: randomBytes(32) });
const ctx = (ref = 'ref_1', provider = 'openai') => ['proj_1', 'test', provider, ref, 'key_1'] as const;
const SECRET = 'sk-vault-unit-test-0123456789abcdef';
// Blob layout: version(1) | iv(12) | ciphertext | tag(16).
const ivOf = (blob: Buffer) => blob.subarray(1, 13).toString('hex');

function flipBit(buf: Buffer, bit: number): Buffer {
  const out = Buffer.from(buf);
  const i = Math.floor(bit / 8) % out.length;
  out[i] = (out[i] as number) ^ (1 << (bit % 8));
  return out;
}

describe('vault', () => {
  const old = mk('old');
  const vault = new Vault(new Keyring([old]));

  it('round-trips and never stores the plaintext or the data key in the clear', () => {
    const sealed = vault.seal('provider_key', ctx(), SECRET);
    expect(sealed.masterKeyId).toBe('old');
    expect(sealed.ciphertext.includes(Buffer.from(SECRET))).toBe(false);
    expect(sealed.wrappedKey.length).toBe(1 + 12 + 32 + 16);
    expect(sealed.ciphertext.length).toBe(1 + 12 + Buffer.byteLength(SECRET) + 16);
    expect(vault.open('provider_key', ctx(), sealed)).toBe(SECRET);
  });

  it('the same plaintext sealed twice gives unrelated blobs', () => {
    const a = vault.seal('provider_key', ctx(), SECRET);
    const b = vault.seal('provider_key', ctx(), SECRET);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(ivOf(a.ciphertext)).not.toBe(ivOf(b.ciphertext));
  });

  it('10,000 encryptions use 20,000 distinct IVs (data and wrap layers)', () => {
    const ivs = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const s = vault.seal('provider_key', ctx(), SECRET);
      ivs.add(ivOf(s.ciphertext));
      ivs.add(ivOf(s.wrappedKey));
      cts.add(s.ciphertext.toString('hex'));
    }
    expect(ivs.size).toBe(20_000);
    expect(cts.size).toBe(10_000);
  });

  it('a ciphertext moved to another row (another context) fails to decrypt', () => {
    const sealed = vault.seal('provider_key', ctx('ref_1'), SECRET);
    const others = [
      ctx('ref_2'),
      ctx('ref_1', 'anthropic'),
      ['proj_2', 'test', 'openai', 'ref_1', 'key_1'],
      ['proj_1', 'live', 'openai', 'ref_1', 'key_1'],
      ['proj_1', 'test', 'openai', 'ref_1', 'key_2'],
    ];
    for (const other of others) expect(() => vault.open('provider_key', other, sealed)).toThrow(DecryptError);
    expect(() => vault.open('webhook_secret', ctx('ref_1'), sealed)).toThrow(DecryptError);
  });

  it('swapping only the wrapped key or only the ciphertext between two rows fails', () => {
    const a = vault.seal('provider_key', ctx('ref_a'), SECRET);
    const b = vault.seal('provider_key', ctx('ref_b'), 'sk-other-key-material-000000');
    expect(() => vault.open('provider_key', ctx('ref_a'), { ...a, wrappedKey: b.wrappedKey })).toThrow(DecryptError);
    expect(() => vault.open('provider_key', ctx('ref_a'), { ...a, ciphertext: b.ciphertext })).toThrow(DecryptError);
  });

  it('flipping any single bit of the ciphertext or the wrapped key fails, never returns bytes', () => {
    const sealed = vault.seal('provider_key', ctx(), SECRET);
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), (inWrap, bitSeed) => {
        const field = inWrap ? 'wrappedKey' : 'ciphertext';
        const bits = sealed[field].length * 8;
        const tampered: Sealed = { ...sealed, [field]: flipBit(sealed[field], bitSeed % bits) };
        expect(() => vault.open('provider_key', ctx(), tampered)).toThrow(DecryptError);
      }),
      { numRuns: 3_000 },
    );
    // Exhaustively too: every bit of both blobs.
    for (const field of ['ciphertext', 'wrappedKey'] as const) {
      for (let bit = 0; bit < sealed[field].length * 8; bit++) {
        let out: string | undefined;
        try {
          out = vault.open('provider_key', ctx(), { ...sealed, [field]: flipBit(sealed[field], bit) });
        } catch (err) {
          if (!(err instanceof DecryptError)) throw err;
        }
        if (out !== undefined) throw new Error(`bit ${bit} of ${field} flipped and still decrypted`);
      }
    }
  });

  it('a truncated or extended tag fails', () => {
    const sealed = vault.seal('provider_key', ctx(), SECRET);
    for (const field of ['ciphertext', 'wrappedKey'] as const) {
      for (const cut of [1, 4, 8, 12, 16]) {
        const short = sealed[field].subarray(0, sealed[field].length - cut);
        expect(() => vault.open('provider_key', ctx(), { ...sealed, [field]: short })).toThrow(DecryptError);
      }
      const longer = Buffer.concat([sealed[field], Buffer.alloc(4)]);
      expect(() => vault.open('provider_key', ctx(), { ...sealed, [field]: longer })).toThrow(DecryptError);
      expect(() => vault.open('provider_key', ctx(), { ...sealed, [field]: Buffer.alloc(0) })).toThrow(DecryptError);
    }
  });

  it('an unknown format version fails closed', () => {
    const sealed = vault.seal('provider_key', ctx(), SECRET);
    const v2 = Buffer.from(sealed.ciphertext);
    v2[0] = 2;
    expect(() => vault.open('provider_key', ctx(), { ...sealed, ciphertext: v2 })).toThrow(DecryptError);
  });

  it('rows sealed under an older master key still open when it is no longer active', () => {
    const sealed = vault.seal('provider_key', ctx(), SECRET);
    const rotated = new Vault(new Keyring([mk('new'), old]));
    expect(rotated.keyring.active.id).toBe('new');
    expect(rotated.open('provider_key', ctx(), sealed)).toBe(SECRET);
    const fresh = rotated.seal('provider_key', ctx(), SECRET);
    expect(fresh.masterKeyId).toBe('new');
    // Rewrap moves the data key to the active master key and leaves the data ciphertext alone.
    const rewrapped = rotated.rewrap('provider_key', ctx(), sealed);
    expect(rewrapped.masterKeyId).toBe('new');
    expect(rewrapped.ciphertext.equals(sealed.ciphertext)).toBe(true);
    const withoutOld = new Vault(new Keyring([rotated.keyring.active]));
    expect(withoutOld.open('provider_key', ctx(), rewrapped)).toBe(SECRET);
    expect(() => withoutOld.open('provider_key', ctx(), sealed)).toThrow(DecryptError);
  });

  it('a master key with the right id but other bytes fails (a DB copy plus a random key)', () => {
    const sealed = vault.seal('provider_key', ctx(), SECRET);
    const impostor = new Vault(new Keyring([mk('old')]));
    expect(() => impostor.open('provider_key', ctx(), sealed)).toThrow(DecryptError);
  });

  it('a wrapped key relabelled with another master key id fails', () => {
    const two = new Vault(new Keyring([mk('a'), mk('b')]));
    const sealed = two.seal('provider_key', ctx(), SECRET);
    expect(() => two.open('provider_key', ctx(), { ...sealed, masterKeyId: 'b' })).toThrow(DecryptError);
    expect(() => two.open('provider_key', ctx(), { ...sealed, masterKeyId: 'zz' })).toThrow(DecryptError);
  });
});

describe('associated data encoding', () => {
  it('distinguishes ("ab","c") from ("a","bc") and other near collisions', () => {
    expect(encodeAad('k', ['ab', 'c']).equals(encodeAad('k', ['a', 'bc']))).toBe(false);
    expect(encodeAad('k', ['a|b', 'c']).equals(encodeAad('k', ['a', 'b|c']))).toBe(false);
    expect(encodeAad('k', ['1']).equals(encodeAad('k', [1]))).toBe(false);
    expect(encodeAad('k', ['a', '']).equals(encodeAad('k', ['a']))).toBe(false);
    expect(encodeAad('ka', ['b']).equals(encodeAad('k', ['ab']))).toBe(false);
  });

  it('is injective: different contexts never encode to the same bytes', () => {
    const part = fc.oneof(fc.string({ maxLength: 6 }), fc.integer());
    fc.assert(
      fc.property(
        fc.string({ maxLength: 4 }),
        fc.array(part, { maxLength: 5 }),
        fc.string({ maxLength: 4 }),
        fc.array(part, { maxLength: 5 }),
        (k1, c1, k2, c2) => {
          const same = k1 === k2 && c1.length === c2.length && c1.every((v, i) => Object.is(v, c2[i]));
          expect(encodeAad(k1, c1).equals(encodeAad(k2, c2))).toBe(same);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe('keyring parsing', () => {
  it('the first key is active and errors never print key material', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    const ring = parseKeyring(`new:${a}, old:${b}`);
    expect(ring.active.id).toBe('new');
    expect(ring.ids()).toEqual(['new', 'old']);
    const short = randomBytes(16).toString('base64');
    for (const bad of [`k1:${short}`, `k1${a}`, `k1:${a},k1:${b}`, `bad id!:${a}`, '']) {
      let message = '';
      try {
        parseKeyring(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(KeyringError);
        message = (err as Error).message;
      }
      expect(message, bad).toMatch(/BYO_MASTER_KEYS/);
      for (const secret of [a, b, short]) expect(message).not.toContain(secret.slice(0, 12));
    }
  });
});
