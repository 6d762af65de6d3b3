import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ms: number;
}

/**
 * One HTTP request through node:http, which (unlike fetch) lets a test send any method,
 * any header value node accepts, and any body bytes. Fails after `timeoutMs` (a hang).
 */
export function send(
  baseUrl: string,
  opts: { method: string; path: string; headers?: Record<string, string | string[]>; body?: string | Buffer; timeoutMs?: number },
): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method,
        path: opts.path,
        headers: opts.headers ?? {},
        agent: false,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms: ${opts.method} ${opts.path}`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/**
 * Writes raw bytes on a fresh TCP connection and collects whatever comes back until the
 * server closes the connection or `idleMs` passes without data.
 */
export function rawExchange(port: number, bytes: string | Buffer, opts: { idleMs?: number; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(idle);
      clearTimeout(overall);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const overall = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw exchange did not finish within ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(done, opts.idleMs ?? 1500);
    };
    sock.on('connect', () => {
      sock.write(bytes);
      arm();
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the server answered still counts as an answer.
      if (chunks.length > 0 || err.code === 'ECONNRESET' || err.code === 'EPIPE') done();
      else reject(err);
    });
  });
}

/** Splits a raw HTTP/1.1 response into status, headers and body (first response only). */
export function parseRawResponse(raw: string): { status: number; headers: Record<string, string>; body: string } | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = raw.slice(end + 4);
  const len = headers['content-length'];
  if (len !== undefined) body = body.slice(0, Number(len));
  return { status: Number(m[1]), headers, body };
}
