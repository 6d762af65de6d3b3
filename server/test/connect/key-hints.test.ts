import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerKeyHint } from '../../src/providers/key-hint.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * A key hint showed its first 3-5 and last 4 characters whatever the key's length,
 * so `vllm-k3y9` was shown whole (`vllm-...k3y9`) and `Pa55w0rd` all but one character. Now a
 * hint shows a well-known provider prefix, and of the rest at most 4 characters, never more
 * than a quarter of the key (nor a third of what follows the prefix).
 */

/** The characters of `key` a hint reveals, besides a known prefix and the `...`. */
function revealed(hint: string, key: string): number {
  const [head, tail] = hint.split('...') as [string, string];
  expect(key.startsWith(head)).toBe(true);
  expect(key.endsWith(tail)).toBe(true);
  return tail.length;
}

describe('providerKeyHint', () => {
  it('the reported keys: short keys show a quarter at most', () => {
    expect(providerKeyHint('vllm-k3y9')).toBe('...y9');
    expect(providerKeyHint('Pa55w0rd')).toBe('...rd');
  });

  it('a well-known provider prefix is shown whole, with at most 4 more characters', () => {
    const body = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0';
    for (const prefix of ['sk-', 'sk-proj-', 'sk-ant-', 'sk-svcacct-', 'AIza', 'gsk_', 'xai-']) {
      expect(providerKeyHint(`${prefix}${body}`)).toBe(`${prefix}...${body.slice(-4)}`);
    }
    expect(providerKeyHint('sk-byo-test-valid')).toBe('sk-...alid');
  });

  it('no prefix that is not a well-known one: the start of an unknown key is never shown', () => {
    expect(providerKeyHint('ollama-0123456789abcdef0123')).toBe('...0123');
    expect(providerKeyHint('sk_live_not_a_provider_prefix_abcd')).toBe('...abcd');
  });

  it('a key with little beyond its prefix shows only the prefix', () => {
    expect(providerKeyHint('sk-proj-12')).toBe('sk-proj-...');
    expect(providerKeyHint('AIza1234')).toBe('AIza...4');
  });

  it('for every length, at most a quarter of the key and at most 4 characters are revealed', () => {
    for (let n = 8; n <= 80; n++) {
      for (const key of ['x'.repeat(n), `sk-${'y'.repeat(Math.max(0, n - 3))}`, `sk-ant-${'z'.repeat(Math.max(1, n - 7))}`]) {
        const shown = revealed(providerKeyHint(key), key);
        expect(shown).toBeLessThanOrEqual(4);
        expect(shown).toBeLessThanOrEqual(key.length / 4);
      }
    }
  });
});

describe('key hints over HTTP', () => {
  let server: TestServer;
  let p: TestProject;
  beforeAll(async () => {
    server = await startTestServer();
    p = await server.createProject();
  }, 120_000);
  afterAll(async () => server?.close());

  it('connect, get and the key.connected event show the short hint, never the key', async () => {
    for (const [refId, providerKey, hint] of [
      ['hint_vllm', 'vllm-k3y9', '...y9'],
      ['hint_pw', 'Pa55w0rd', '...rd'],
    ] as const) {
      const c = await server.request('POST', '/v1/keys/connect', { key: p.skTest, body: { provider: 'openai', refId, providerKey } });
      expect(c.status, c.text).toBe(200);
      expect(c.body.keyHint).toBe(hint);
      const got = await server.request('GET', `/v1/keys/openai/${refId}`, { key: p.skTest });
      expect(got.body.keyHint).toBe(hint);
      const ev = await server.app.services.db
        .selectFrom('events')
        .select('data')
        .where('project_id', '=', p.id)
        .where('type', '=', 'key.connected')
        .execute();
      const text = JSON.stringify(ev.map((e) => e.data));
      expect(text).toContain(`"keyHint":"${hint}"`);
      expect(text).not.toContain(providerKey.slice(0, 5));
    }
  });
});
