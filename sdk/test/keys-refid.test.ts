import { describe, expect, it } from 'vitest';
import { BYOK, ValidationError } from '../src/index.js';

/**
 * Issue 24 §11: `keys.get({ refId: '..' })` built `/v1/keys/openai/..`, which fetch resolves to
 * `/v1/keys` (the list route) before it leaves the process, so it answered with every key's
 * metadata instead of one. A refId made only of dots is refused before any request.
 */
describe('keys.get with a refId of dots', () => {
  it('is refused locally with a ValidationError; nothing is sent', async () => {
    const sent: string[] = [];
    const byok = new BYOK({
      apiKey: 'byo_sk_test_x',
      baseURL: 'http://127.0.0.1:9',
      maxRetries: 0,
      fetch: async (url: string | URL | Request) => {
        sent.push(String(url));
        return new Response('{"data":[],"nextCursor":null}', { headers: { 'content-type': 'application/json' } });
      },
    });
    for (const refId of ['.', '..', '...']) {
      const err = await byok.keys.get({ provider: 'openai', refId }).catch((e: unknown) => e);
      expect(err, refId).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).code).toBe('validation_failed');
    }
    expect(sent).toEqual([]);
    // Dots inside a refId are fine and are sent as one segment.
    await byok.keys.get({ provider: 'openai', refId: 'a..b' });
    expect(sent).toEqual(['http://127.0.0.1:9/v1/keys/openai/a..b']);
  });
});
