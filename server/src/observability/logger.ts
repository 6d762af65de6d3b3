import { pino, type DestinationStream, type Logger } from 'pino';
import { scrub, scrubDeep } from './scrub.js';

export type { Logger };

/** Fields removed from every log line wherever they appear (the first of three layers of log scrubbing). */
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
        // Third layer (after the redacted fields and scrub.ts): scrub key-shaped strings anywhere
        // in the line. Fastify's request and reply read their fields through getters, which a copy would lose (access logs with
        // no method, url or status): the req/res serializers below read and scrub them instead.
        log: (obj) => {
          const { req, res, ...rest } = obj;
          const out = scrubDeep(rest) as Record<string, unknown>;
          if (req !== undefined) out.req = req;
          if (res !== undefined) out.res = res;
          return out;
        },
      },
      hooks: {
        logMethod(args, method) {
          // Strings, and objects interpolated into the message (`%o`, `%j`), are scrubbed here;
          // the merging object (first argument) goes through formatters.log.
          const scrubbed: unknown[] = args.map((a, i) =>
            typeof a === 'string' ? scrub(a) : i > 0 && a !== null && typeof a === 'object' ? scrubDeep(a) : a,
          );
          // `log.error(err)`: pino would copy err.message into msg unscrubbed.
          if (scrubbed[0] instanceof Error) {
            const err = scrubbed[0];
            scrubbed[0] = { err };
            if (typeof scrubbed[1] !== 'string') scrubbed.splice(1, 0, scrub(err.message));
          }
          method.apply(this, scrubbed as typeof args);
        },
      },
      serializers: {
        err: serializeError,
        req: (req: { method: string; url: string; id: string; ip?: string }) => ({
          method: req.method,
          // Query strings are never logged: they may hold ?key=.
          url: scrub(String(req.url ?? '').split('?')[0] as string),
          id: req.id,
          ip: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    opts.destination,
  );
}

/** An error as a log field: name, code, message and stack, all scrubbed, and its causes. */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  const e = (err ?? {}) as { name?: string; code?: unknown; message?: unknown; stack?: unknown; cause?: unknown };
  const out: Record<string, unknown> = {
    type: e.name,
    code: e.code,
    message: scrub(String(e.message ?? '')),
    stack: scrub(String(e.stack ?? '')),
  };
  if (e.cause !== undefined && e.cause !== null && depth < 3)
    out.cause = typeof e.cause === 'object' ? serializeError(e.cause, depth + 1) : scrub(String(e.cause));
  return out;
}
