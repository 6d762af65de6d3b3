import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import { BYOK, BYOKError, Webhooks } from '../src/index.js';

const SK = 'byo_sk_test_abcdefghijklmnopqrstuvwxyz0123456789';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

describe('new BYOK()', () => {
  it('takes the key and base URL from the environment when not given', () => {
    vi.stubEnv('BYO_SECRET_KEY', SK);
    vi.stubEnv('BYO_BASE_URL', 'https://byo.example.com/');
    const byok = new BYOK();
    expect(byok.apiKey).toBe(SK);
    expect(byok.baseURL).toBe('https://byo.example.com');
  });

  it('takes baseUrl, the spelling of providerConfig.baseUrl, as baseURL; baseURL wins', () => {
    vi.stubEnv('BYO_BASE_URL', '');
    expect(new BYOK({ apiKey: SK, baseUrl: 'https://byo.example.com/' }).baseURL).toBe('https://byo.example.com');
    expect(new BYOK({ apiKey: SK, baseURL: 'https://a.example.com', baseUrl: 'https://b.example.com' }).baseURL).toBe(
      'https://a.example.com',
    );
  });

  it('defaults the base URL to http://localhost:3000, 2 retries and 10 minutes', () => {
    vi.stubEnv('BYO_BASE_URL', '');
    const byok = new BYOK({ apiKey: SK });
    expect(byok.baseURL).toBe('http://localhost:3000');
    expect(byok.maxRetries).toBe(2);
    expect(byok.timeout).toBe(600_000);
  });

  it('explains a missing key', () => {
    vi.stubEnv('BYO_SECRET_KEY', '');
    expect(() => new BYOK()).toThrow(BYOKError);
    expect(() => new BYOK()).toThrow(/Missing BYO secret key.*BYO_SECRET_KEY/);
  });

  it('refuses a publishable key, saying which key to use', () => {
    const err = (() => {
      try {
        new BYOK({ apiKey: 'byo_pk_test_abcdefghijklmnopqrstuvwxyz0123' });
      } catch (e) {
        return e as BYOKError;
      }
    })();
    expect(err).toBeInstanceOf(BYOKError);
    expect(err?.code).toBe('publishable_key');
    expect(err?.message).toMatch(/publishable key.*secret key \(byo_sk_/);
  });

  it('refuses something that is not a BYO key (e.g. a provider key)', () => {
    expect(() => new BYOK({ apiKey: 'sk-proj-123' })).toThrow(/not a BYO secret key/);
  });

  it('refuses to run in a web page unless told to', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    expect(() => new BYOK({ apiKey: SK })).toThrow(/must not be used in a web page/);
    expect(new BYOK({ apiKey: SK, dangerouslyAllowBrowser: true }).apiKey).toBe(SK);
  });

  it('never shows the key when serialised or inspected (console.log)', () => {
    const byok = new BYOK({ apiKey: SK });
    expect(JSON.stringify(byok)).not.toContain(SK);
    expect(inspect(byok, { depth: 10 })).not.toContain(SK);
    expect(inspect(byok.openai({ refId: 'r' }), { depth: 10 })).not.toContain(SK);
    expect(byok.apiKey).toBe(SK);
    expect(byok.openai({ refId: 'r' }).apiKey).toBe(SK);
  });

  it('provider clients expose the proxy base URL, the key and the ref id header for official SDKs', () => {
    const byok = new BYOK({ apiKey: SK, baseURL: 'https://byo.example.com' });
    const openai = byok.openai({ refId: 'customer_123' });
    expect(openai.baseURL).toBe('https://byo.example.com/v1/proxy/openai');
    expect(openai.apiKey).toBe(SK);
    expect(openai.headers).toEqual({ 'X-BYO-Ref-Id': 'customer_123' });
    expect(byok.anthropic({ refId: 'c' }).baseURL).toBe('https://byo.example.com/v1/proxy/anthropic');
    expect(byok.google({ refId: 'c' }).baseURL).toBe('https://byo.example.com/v1/proxy/google');
    expect(() => byok.openai({} as never)).toThrow(/refId/);
  });

  it('webhooks work without a client', () => {
    expect(typeof BYOK.webhooks.verify).toBe('function');
    expect(new BYOK({ apiKey: SK }).webhooks).toBeInstanceOf(Webhooks);
    expect(typeof new BYOK({ apiKey: SK }).webhooks.endpoints.create).toBe('function');
  });
});
