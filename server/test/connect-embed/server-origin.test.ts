import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isServerOrigin, serverOrigins } from '../../src/domain/server-origin.js';

/** Which `Origin`s count as the BYO server's own (the hosted form's same-origin calls). */
function services(env: Record<string, string>, address: () => AddressInfo | null = () => null) {
  return { config: loadConfig(env), serverAddress: address };
}

describe('serverOrigins', () => {
  it('is the listen address, with the loopback aliases when listening on loopback', () => {
    expect([...serverOrigins(services({ HOST: '127.0.0.1', PORT: '3000' }))]).toEqual([
      'http://127.0.0.1:3000',
      'http://localhost:3000',
      'http://[::1]:3000',
    ]);
    expect([...serverOrigins(services({ HOST: 'byo.internal', PORT: '8080' }))]).toEqual(['http://byo.internal:8080']);
  });

  it('adds BYO_PUBLIC_URL, normalised to an origin; a wildcard listen address alone names nothing', () => {
    const s = services({ HOST: '0.0.0.0', PORT: '3000', BYO_PUBLIC_URL: 'https://byo.example.com/some/path' });
    expect([...serverOrigins(s)]).toEqual(['https://byo.example.com']);
    expect(isServerOrigin(s, 'https://byo.example.com')).toBe(true);
    expect(isServerOrigin(s, 'http://byo.example.com')).toBe(false);
    expect(isServerOrigin(s, 'https://byo.example.com.evil.test')).toBe(false);
    expect(isServerOrigin(services({ HOST: '0.0.0.0', PORT: '3000' }), 'http://0.0.0.0:3000')).toBe(false);
  });

  it('uses the bound port once the server listens (PORT=0)', () => {
    let bound: AddressInfo | null = null;
    const s = services({ HOST: '127.0.0.1', PORT: '0' }, () => bound);
    expect(isServerOrigin(s, 'http://127.0.0.1:41234')).toBe(false);
    bound = { address: '127.0.0.1', family: 'IPv4', port: 41234 };
    expect(isServerOrigin(s, 'http://127.0.0.1:41234')).toBe(true);
    expect(isServerOrigin(s, 'http://localhost:41234')).toBe(true);
    expect(isServerOrigin(s, 'http://127.0.0.1:41235')).toBe(false);
  });
});
