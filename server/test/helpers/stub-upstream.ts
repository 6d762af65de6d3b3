import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubUpstream {
  url: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  /** Replaces the handler (fault injection); the default answers like a models list. */
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  close: () => Promise<void>;
}

/** A provider stand-in on 127.0.0.1 whose behaviour a test can swap at any time. */
export async function startStubUpstream(): Promise<StubUpstream> {
  const stub: StubUpstream = {
    url: '',
    requests: [],
    handle: (req, res) => {
      const key = String(req.headers.authorization ?? req.headers['x-api-key'] ?? req.headers['x-goog-api-key'] ?? '');
      res.setHeader('content-type', 'application/json');
      if (/invalid/.test(key)) {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
        return;
      }
      res.end(JSON.stringify({ object: 'list', data: [] }));
    },
    close: async () => {},
  };
  const sockets = new Set<import('node:net').Socket>();
  const srv = http.createServer((req, res) => {
    stub.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    stub.handle(req, res);
  });
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      srv.close(() => resolve());
    });
  return stub;
}
