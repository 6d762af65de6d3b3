import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config.js';
import type { RunningServer } from '../../src/server.js';

/**
 * Leak-scan capture. When the suite runs under the leak-scan global setup
 * (`BYO_LEAK_DIR` set), every test server appends to that directory: each log line it
 * writes, each secret it saw (master keys, the admin token, provider keys it sealed or was
 * sent, BYO keys, connect tokens and webhook secrets it handed out or was shown), and, when
 * it closes on PostgreSQL, a pg_dump of its schema. The global teardown then searches the
 * logs and dumps for every secret (`test/secrets/leak-scan.global.ts`).
 */

const KEY_SHAPES = [
  /byo_(?:sk|pk)_(?:live|test)_[0-9A-Za-z]{49}/g,
  /byo_ct_[0-9A-Za-z]{16,}/g,
  /whsec_[0-9A-Za-z+/=_-]{16,}/g,
  /byo_admin_[0-9A-Za-z_-]{16,}/g,
];
const PROVIDER_KEY_FIELD = /"providerKey"\s*:\s*"((?:[^"\\]|\\.){12,4096})"/g;

export interface LeakCapture {
  log(line: string): void;
  attach(running: RunningServer, config: Config): void;
  dump(schema: string): Promise<void>;
}

export function leakCapture(): LeakCapture | null {
  const dir = process.env.BYO_LEAK_DIR;
  if (!dir) return null;
  const logFile = join(dir, `logs-${process.pid}.ndjson`);
  const secretFile = join(dir, `secrets-${process.pid}.txt`);
  const seen = new Set<string>();
  const secret = (kind: string, value: string) => {
    // A service-account key file is mostly public (its email, project, token URI): its private key is the secret.
    if (serviceAccountParts(value, secret)) return;
    if (value.length < 12 || seen.has(value)) return;
    seen.add(value);
    appendFileSync(secretFile, `${JSON.stringify({ kind, value })}\n`);
  };
  const scanText = (text: string) => {
    for (const re of KEY_SHAPES) for (const m of text.matchAll(re)) secret('shape', m[0]);
    for (const m of text.matchAll(PROVIDER_KEY_FIELD)) {
      try {
        secret('provider_key', JSON.parse(`"${m[1]}"`) as string);
      } catch {
        /* not a JSON string */
      }
    }
  };

  return {
    log(line) {
      appendFileSync(logFile, line.endsWith('\n') ? line : `${line}\n`);
    },
    attach(running, config) {
      for (const entry of (config.BYO_MASTER_KEYS ?? '').split(',')) {
        const b64 = entry.slice(entry.indexOf(':') + 1).trim();
        if (!b64) continue;
        secret('master_key', b64);
        secret('master_key_hex', Buffer.from(b64, 'base64').toString('hex'));
      }
      if (config.BYO_ADMIN_TOKEN) secret('admin_token', config.BYO_ADMIN_TOKEN);
      // Every plaintext the vault seals: provider keys and webhook secrets.
      const vault = running.app.services.vault;
      const seal = vault.seal.bind(vault);
      vault.seal = (kind, context, plaintext) => {
        secret(`sealed:${kind}`, plaintext);
        return seal(kind, context, plaintext);
      };
      // Every access token minted from a service-account key (Vertex).
      const tokens = running.app.services.signing.tokens;
      const get = tokens.get.bind(tokens);
      tokens.get = async (...args: Parameters<typeof get>) => {
        const token = await get(...args);
        secret('minted_token', token);
        return token;
      };
      // Every request and response on the wire: credentials presented, keys sent, keys shown.
      running.app.fastify.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
        // Credentials presented: only real key shapes (a test may present anything, e.g. a key's stored hash).
        for (const h of ['authorization', 'x-api-key', 'x-goog-api-key', 'x-byo-connect-token']) {
          const v = req.headers[h];
          if (typeof v === 'string') scanText(v);
        }
        scanText(decodeURIComponentSafe(req.url ?? ''));
        const emit = req.emit;
        req.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]) {
          if (event === 'data' && Buffer.isBuffer(args[0])) scanText(args[0].toString('utf8'));
          return emit.call(this, event, ...args);
        } as typeof req.emit;
        const write = res.write;
        const end = res.end;
        res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
          if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) scanText(chunk.toString());
          return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
        } as typeof res.write;
        res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
          if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) scanText(chunk.toString());
          return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
        } as typeof res.end;
      });
    },
    async dump(schema) {
      const url = process.env.DATABASE_URL;
      if (!url) return;
      try {
        const { stdout } = await promisify(execFile)('pg_dump', ['--dbname', url, '--schema', schema, '--no-owner'], {
          maxBuffer: 512 * 1024 * 1024,
        });
        writeFileSync(join(dir, `dump-${schema}.sql`), stdout);
      } catch (err) {
        writeFileSync(join(dir, `dump-${schema}.error`), String((err as Error).message));
      }
    },
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Declares test constants public: fuzzers reuse the same literal as a provider key and as a
 * ref id or a name, where it is rightly stored. The scan does not search for these.
 */
export function markPublic(values: readonly string[]): void {
  const dir = process.env.BYO_LEAK_DIR;
  if (!dir) return;
  appendFileSync(join(dir, `public-${process.pid}.txt`), values.map((v) => `${JSON.stringify(v)}\n`).join(''));
}

/**
 * A JSON credential file's secrets: a service account's private key (its PEM body: a leak of
 * any part counts), a client secret or refresh token; the rest (email, project, token URI) is
 * public. Returns false when `value` is not JSON.
 */
function serviceAccountParts(value: string, secret: (kind: string, value: string) => void): boolean {
  if (!value.startsWith('{')) return false;
  let file: Record<string, unknown>;
  try {
    file = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (!file || typeof file !== 'object') return false;
  const pem = file.private_key;
  if (typeof pem === 'string') secret('service_account_private_key', pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''));
  for (const name of ['client_secret', 'refresh_token'])
    if (typeof file[name] === 'string') secret(`credential_file_${name}`, file[name] as string);
  return true;
}
