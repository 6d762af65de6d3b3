import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, n: number) => void | Promise<void>;

/** A local HTTP server on 127.0.0.1 that plays BYO (or a flaky network) for transport tests. */
export interface MockServer {
  url: string;
  requests: RecordedRequest[];
  /** Handlers used in turn, one per request; the last one repeats. */
  reply(...handlers: Handler[]): void;
  close(): Promise<void>;
}

export async function startMockServer(): Promise<MockServer> {
  let handlers: Handler[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(rec);
    const n = requests.length - 1;
    const h = handlers[Math.min(n, handlers.length - 1)];
    if (!h) {
      res.writeHead(500).end('no handler');
      return;
    }
    try {
      await h(rec, res, n);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(...hs) {
      handlers = hs;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JSON answer as BYO's REST API gives it. */
export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-byo-request-id': 'req_mock', ...headers });
    res.end(JSON.stringify(body));
  };

/** A BYO error body. */
export const byoError = (status: number, code: string, message = `mock ${code}`, headers: Record<string, string> = {}): Handler =>
  json(status, { code, message, requestId: 'req_mock' }, { 'x-byo-error-source': 'byo', ...headers });

/** Drops the connection without answering. */
export const hangUp: Handler = (req, res) => {
  void req;
  res.socket?.destroy();
};
