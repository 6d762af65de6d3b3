import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, apiKeyHint, generateApiKey, parseApiKey } from '../../src/auth/api-key-format.js';

/** Scanner-friendly keys whose checksum catches any single-character mistake. */

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_';
const kindMode = fc.record({
  kind: fc.constantFrom('pk' as const, 'sk' as const),
  mode: fc.constantFrom('test' as const, 'live' as const),
});

describe('API key format', () => {
  it('100,000 generated keys match the published pattern, pass the checksum and are distinct', () => {
    const published = /^byo_(pk|sk)_(test|live)_[0-9A-Za-z]{49,}$/;
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const kind = i % 2 ? 'pk' : 'sk';
      const mode = i % 4 < 2 ? 'test' : 'live';
      const key = generateApiKey(kind, mode);
      if (!published.test(key) || !API_KEY_PATTERN.test(key)) throw new Error(`bad shape: ${key}`);
      const parsed = parseApiKey(key);
      if (parsed?.kind !== kind || parsed.mode !== mode) throw new Error(`checksum or prefix not recognised: ${key}`);
      seen.add(key);
    }
    expect(seen.size).toBe(100_000);
  });

  it('keys issued by earlier versions still parse (the checksum encoding has not changed)', () => {
    // Generated with the BigInt base62 checksum this module used before its faster rewrite.
    const issued = [
      'byo_sk_live_mTT9I3orEjbqd8MoaEiktpVVO0Zo4L0kL4XYikhMW2L1ZkLs1',
      'byo_pk_live_vJYBhzkMLipM5u14rH4EOgKaJhSrJwV25KU9E0hSIfV0vk5x9',
      'byo_sk_live_eMCtluHVRBHCulxS8rC5EhmJTdiqUCtgZTahqBr6liJ0bbfiP',
    ];
    expect(issued.map((k) => parseApiKey(k)?.kind)).toEqual(['sk', 'pk', 'sk']);
  });

  it('any single-character change makes the key invalid', () => {
    fc.assert(
      fc.property(kindMode, fc.nat(), fc.nat(), ({ kind, mode }, posSeed, charSeed) => {
        const key = generateApiKey(kind, mode);
        const pos = posSeed % key.length;
        const original = key[pos] as string;
        const choices = ALPHABET.replace(original, '');
        const mutated = key.slice(0, pos) + choices[charSeed % choices.length] + key.slice(pos + 1);
        expect(parseApiKey(mutated)).toBeNull();
      }),
      { numRuns: 20_000 },
    );
  });

  it('swapping two adjacent different characters makes the key invalid', () => {
    fc.assert(
      fc.property(kindMode, fc.nat(), ({ kind, mode }, posSeed) => {
        const key = generateApiKey(kind, mode);
        const start = `byo_${kind}_${mode}_`.length;
        const pos = start + (posSeed % (key.length - start - 1));
        fc.pre(key[pos] !== key[pos + 1]);
        const swapped = key.slice(0, pos) + key[pos + 1] + key[pos] + key.slice(pos + 2);
        expect(parseApiKey(swapped)).toBeNull();
      }),
      { numRuns: 5_000 },
    );
  });

  it('a dropped, added or case-changed character makes the key invalid', () => {
    const key = generateApiKey('sk', 'live');
    expect(parseApiKey(key.slice(0, -1))).toBeNull();
    expect(parseApiKey(`${key}a`)).toBeNull();
    expect(parseApiKey(` ${key}`)).toBeNull();
    expect(parseApiKey(key.toUpperCase())).toBeNull();
    expect(parseApiKey(key.replace('byo_sk_live_', 'byo_pk_live_'))).toBeNull();
    expect(parseApiKey(key.replace('byo_sk_live_', 'byo_sk_test_'))).toBeNull();
  });

  it('arbitrary strings are never accepted', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        expect(parseApiKey(s)).toBeNull();
      }),
      { numRuns: 5_000 },
    );
    fc.assert(
      fc.property(kindMode, fc.stringMatching(/^[0-9A-Za-z]{49}$/), ({ kind, mode }, body) => {
        // A random body has a 1 in 62^6 chance of a matching checksum.
        expect(parseApiKey(`byo_${kind}_${mode}_${body}`)).toBeNull();
      }),
      { numRuns: 5_000 },
    );
  });

  it('the display hint is the prefix and the last four characters only', () => {
    const key = generateApiKey('sk', 'live');
    const hint = apiKeyHint(key);
    expect(hint).toBe(`byo_sk_live_...${key.slice(-4)}`);
    expect(hint.length).toBeLessThanOrEqual(19);
  });
});
