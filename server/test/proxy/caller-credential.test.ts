import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callerCredential } from '../../src/proxy/headers.js';

/** The rule before the fast path: `Bearer <token>` (any case, any spacing), else the whole value trimmed. */
function byPattern(auth: string): string | undefined {
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(auth);
  return m ? m[1] : auth.trim();
}

describe('the BYO key is read from the header its SDK sends it in', () => {
  it('reads Authorization: Bearer in every spelling the pattern accepted', () => {
    const sk = 'byo_sk_live_abc123';
    for (const auth of [`Bearer ${sk}`, `bearer ${sk}`, `BEARER ${sk}`, `Bearer   ${sk}`, `  Bearer ${sk}  `, `Bearer\t${sk}`, sk])
      expect(callerCredential({ authorization: auth }, undefined)).toBe(sk);
    // Not a single token: never taken for the key.
    expect(callerCredential({ authorization: `Bearer ${sk} extra` }, undefined)).toBe(`Bearer ${sk} extra`);
    expect(callerCredential({ authorization: 'Bearer ' }, undefined)).toBe('Bearer');
  });

  it('gives what the pattern gave for any Authorization value (fast path included)', () => {
    const piece = fc.constantFrom('Bearer', 'bearer', ' ', '\t', '\u00a0', 'byo_sk_live_', 'x', '-', 'sk-', '', '  ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (parts) => {
        const auth = parts.join('');
        expect(callerCredential({ authorization: auth }, undefined)).toBe(byPattern(auth));
      }),
      { numRuns: 2000 },
    );
  });

  it('prefers a BYO key over another credential, wherever each is', () => {
    expect(callerCredential({ authorization: 'Bearer sk-provider', 'x-api-key': 'byo_sk_live_k' }, undefined)).toBe('byo_sk_live_k');
    expect(callerCredential({ 'x-goog-api-key': 'byo_sk_test_g' }, undefined)).toBe('byo_sk_test_g');
    expect(callerCredential({}, 'byo_sk_live_q')).toBe('byo_sk_live_q');
    expect(callerCredential({ authorization: 'Bearer sk-provider' }, undefined)).toBe('sk-provider');
  });
});
