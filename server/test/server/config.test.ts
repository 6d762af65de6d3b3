import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** Configuration from the environment, validated at start; errors name the variable, never its value. */

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives working defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ HOST: '127.0.0.1', PORT: 3000, BYO_DATA_DIR: './.byo', mode: 'embedded', LOG_LEVEL: 'info' });
    expect(c.BYO_KEY_CACHE_TTL).toBe(60_000);
    expect(c.BYO_RATE_LIMIT_CONNECT_PER_KEY).toBeGreaterThan(0);
  });

  it('is in PostgreSQL mode when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' }).mode).toBe('postgres');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).mode).toBe('postgres');
  });

  it('parses durations, booleans and lists', () => {
    const c = loadConfig({ BYO_KEY_CACHE_TTL: '5m', BYO_SANDBOX: 'false', BYO_ALLOWED_UPSTREAM_HOSTS: ' a.test, 10.0.0.0/8 ,', PORT: '0' });
    expect(c.BYO_KEY_CACHE_TTL).toBe(300_000);
    expect(c.BYO_SANDBOX).toBe(false);
    expect(c.BYO_ALLOWED_UPSTREAM_HOSTS).toEqual(['a.test', '10.0.0.0/8']);
    expect(c.PORT).toBe(0);
    expect(c.webhookScheduleMs.length).toBeGreaterThan(1);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ PORT: 3000, mode: 'embedded' });
  });

  it('names each bad variable and never prints its value', () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ PORT: 'eighty' }, 'PORT', 'eighty'],
      [{ PORT: '70000' }, 'PORT', '70000'],
      [{ DATABASE_URL: 'mysql://root:hunter2secret@db/app' }, 'DATABASE_URL', 'hunter2secret'],
      [{ BYO_ADMIN_TOKEN: 'tooShortSecretValue' }, 'BYO_ADMIN_TOKEN', 'tooShortSecretValue'],
      [{ REDIS_URL: 'http://:redispassword@cache' }, 'REDIS_URL', 'redispassword'],
      [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', 'verbose'],
      [{ BYO_KEY_CACHE_TTL: 'soon' }, 'BYO_KEY_CACHE_TTL', 'soon'],
      [{ BYO_SANDBOX: 'maybe' }, 'BYO_SANDBOX', 'maybe'],
      [{ BYO_OPENAI_BASE_URL: 'not a url' }, 'BYO_OPENAI_BASE_URL', 'not a url'],
      [{ BYO_WEBHOOK_SCHEDULE: '0,soon' }, 'BYO_WEBHOOK_SCHEDULE', 'soon'],
      // Beyond the longest timer Node.js can set (2^31-1 ms): it would fire back to back.
      [{ BYO_EVENT_RETENTION_INTERVAL: '30d' }, 'BYO_EVENT_RETENTION_INTERVAL', '30d'],
      [{ BYO_UPSTREAM_HEADERS_TIMEOUT: '30d' }, 'BYO_UPSTREAM_HEADERS_TIMEOUT', '30d'],
      [{ BYO_WEBHOOK_POLL_INTERVAL: '2147483648' }, 'BYO_WEBHOOK_POLL_INTERVAL', '2147483648'],
    ];
    for (const [env, name, value] of cases) {
      const message = configError(env);
      expect(message, name).toContain(name);
      expect(message, name).not.toContain(value);
    }
  });

  it('takes any timer duration up to the longest Node.js can set, and longer non-timer durations', () => {
    expect(loadConfig({ BYO_UPSTREAM_BODY_TIMEOUT: '24d', BYO_WEBHOOK_TIMEOUT: '2147483647' })).toMatchObject({
      BYO_UPSTREAM_BODY_TIMEOUT: 24 * 86_400_000,
      BYO_WEBHOOK_TIMEOUT: 2_147_483_647,
    });
    // Compared with timestamps, never armed as a timer: no such bound.
    expect(loadConfig({ BYO_WEBHOOK_DISABLE_AFTER: '60d' }).BYO_WEBHOOK_DISABLE_AFTER).toBe(60 * 86_400_000);
  });

  it('reports every bad variable at once', () => {
    const message = configError({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });
});
