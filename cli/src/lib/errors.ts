import { TRPCClientError } from '@trpc/client';
import { EXIT, type ExitCode } from './exit-codes.js';

/** An error the CLI reports: a stable code, a message that says what to do next, an exit code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly extra: { requestId?: string | undefined; issues?: unknown; result?: unknown } = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

const STATUS_EXIT: [number, ExitCode][] = [
  [400, EXIT.usage],
  [401, EXIT.auth],
  [403, EXIT.forbidden],
  [404, EXIT.notFound],
  [409, EXIT.conflict],
  [413, EXIT.usage],
  [415, EXIT.usage],
  [422, EXIT.conflict],
  [429, EXIT.unavailable],
];

export function exitForStatus(status: number): ExitCode {
  const hit = STATUS_EXIT.find(([s]) => s === status);
  if (hit) return hit[1];
  if (status === 500) return EXIT.error;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.error;
}

interface ServerErrorData {
  code?: string;
  httpStatus?: number;
  requestId?: string | null;
  issues?: unknown;
}

function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  for (let i = 0; cur && i < 6; i++) {
    out.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** Turns whatever a tRPC call threw into a CliError with advice for the next step. */
export function fromClientError(err: unknown, ctx: { url: string; credential: 'admin' | 'secret' }): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof TRPCClientError) {
    const data = (err.data ?? {}) as ServerErrorData;
    if (data.code && data.httpStatus) {
      const extra = { requestId: data.requestId ?? undefined, issues: data.issues ?? undefined };
      const status = data.httpStatus;
      let message = err.message;
      if (status === 401) {
        message =
          ctx.credential === 'admin'
            ? `The server rejected the admin token (${message}) Run \`byo login\` with the server's BYO_ADMIN_TOKEN, or set BYO_ADMIN_TOKEN.`
            : `The server rejected the secret key (${message}) Run \`byo login\` with a valid byo_sk_ key, or set BYO_SECRET_KEY.`;
      } else if (status === 500) {
        message = `${message} The request id identifies it in the server logs.`;
      }
      return new CliError(data.code, message, exitForStatus(status), extra);
    }
    // No BYO error body: the request never reached a BYO server, or the answer was not one.
    const chain = causeChain(err);
    const net = chain.find((e) => typeof (e as { code?: unknown }).code === 'string') as { code?: string } | undefined;
    const isFetchFailure = chain.some((e) => e instanceof TypeError && /fetch failed/i.test((e as Error).message));
    if (isFetchFailure || net?.code) {
      return new CliError(
        'server_unreachable',
        `Cannot reach the BYO server at ${ctx.url}${net?.code ? ` (${net.code})` : ''}. Check that it is running (\`byo server start\`) and that the URL is right (\`byo login --url\` or BYO_URL).`,
        EXIT.unavailable,
      );
    }
    const status = (err.meta?.response as { status?: number } | undefined)?.status;
    return new CliError(
      'bad_response',
      `${ctx.url} did not answer like a BYO server${status ? ` (HTTP ${status})` : ''}. Check the URL (\`byo login --url\` or BYO_URL).`,
      status ? exitForStatus(status) : EXIT.unavailable,
    );
  }
  return new CliError('internal_error', (err as Error)?.message ?? String(err), EXIT.error);
}
