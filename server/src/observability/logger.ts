import { pino, type DestinationStream, type Logger } from 'pino';
import { scrub, scrubDeep } from './scrub.js';

export type { Logger };

/** Fields removed from every log line wherever they appear (LOG-1, first layer). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
  'req.headers["x-byo-connect-token"]',
  'headers.authorization',
  'providerKey',
  '*.providerKey',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'password',
  'masterKey',
];

export function createLogger(opts: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: {
        // Third layer of LOG-1: scrub key-shaped strings anywhere in the line.
        log: (obj) => scrubDeep(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
      serializers: {
        err: (err: Error & { code?: string }) => ({
          type: err?.name,
          code: err?.code,
          message: scrub(String(err?.message ?? '')),
          stack: scrub(String(err?.stack ?? '')),
        }),
        req: (req: { method: string; url: string; id: string; ip?: string }) => ({
          method: req.method,
          // Query strings are never logged: they may hold ?key=.
          url: String(req.url ?? '').split('?')[0],
          id: req.id,
          ip: req.ip,
        }),
      },
    },
    opts.destination,
  );
}
