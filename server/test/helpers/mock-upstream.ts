/**
 * A local mock AI provider on 127.0.0.1 that speaks the OpenAI, Anthropic and Gemini wire
 * formats (JSON and SSE) and records every request it receives.
 *
 * ```ts
 * const mock = await startMockUpstream();
 * const server = await startTestServer({ ...mock.env });   // BYO_*_BASE_URL point at the mock
 * // ... call the proxy ...
 * expect(mock.last()?.headers.authorization).toBe('Bearer sk-real-key');
 * mock.intercept({ provider: 'openai', path: '/chat/completions' }, { status: 429, json: { error: { message: 'slow down' } } });
 * await mock.close();
 * ```
 *
 * Each provider lives under its own prefix, so one mock serves all three:
 * `mock.baseUrls.openai` = `{url}/openai/v1`, `.anthropic` = `{url}/anthropic`,
 * `.google` = `{url}/google` — exactly where each SDK's base URL points.
 *
 * By default a request gets the answer the built-in sandbox gives (deterministic text and
 * usage; `options.text` / `options.chunks` change the reply and how many SSE deltas carry it).
 * `intercept()` overrides that for matching requests with a canned reply or a function that
 * writes the response itself (hold a stream, die mid-stream, never answer...).
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ProviderName } from '../../src/db/schema.js';
import { respondAs } from '../../src/sandbox/index.js';

export interface MockUpstreamOptions {
  /** Reply text of the default answers. */
  text?: string;
  /** Number of SSE text deltas in default streamed answers (default: one per word). */
  chunks?: number;
  /** Port to listen on (default: ephemeral). */
  port?: number;
  /** Keep no request records (benchmarks). */
  record?: boolean;
}

export interface MockRequest {
  /** Which provider prefix the request came in under, or null for an unknown prefix. */
  provider: ProviderName | null;
  method: string;
  /** Path relative to the provider's base URL, without the query: `/chat/completions`, `/v1/messages`, `/v1beta/models/m:generateContent`. */
  path: string;
  /** The raw URL as received (prefix and query included). */
  url: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Raw header list as received (names in their original case). */
  rawHeaders: string[];
  body: Buffer;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
  receivedAt: number;
  /** Resolves when this request's response is done or its connection closed; `completed` is false if the client (BYO) went away first. */
  closed: Promise<{ completed: boolean; at: number }>;
}

export interface MockReply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON body (sets content-type). */
  json?: unknown;
  /** Raw body. */
  body?: string | Buffer;
  /** Already framed events (SSE, see `sseEvent`, or AWS event-stream frames), written one by one. */
  events?: (string | Uint8Array)[];
  /** Pause between events. */
  eventDelayMs?: number;
}

export type MockHandler =
  | MockReply
  | ((req: MockRequest, res: ServerResponse, helpers: MockHelpers) => MockReply | undefined | Promise<MockReply | undefined>);

export type MockMatch =
  | { provider?: ProviderName; method?: string; path?: string | RegExp; times?: number }
  | ((req: MockRequest) => boolean);

export interface MockHelpers {
  /** The answer the mock would give by default (sandbox wire format). */
  defaultReply(): MockReply;
  /** Writes a reply (status, headers, body or events). */
  send(reply: MockReply): Promise<void>;
}

export interface MockUpstream {
  url: string;
  port: number;
  baseUrls: Record<'openai' | 'anthropic' | 'google', string>;
  /** Env for `startTestServer` / a BYO process: `BYO_OPENAI_BASE_URL` etc. pointing here. */
  env: { BYO_OPENAI_BASE_URL: string; BYO_ANTHROPIC_BASE_URL: string; BYO_GOOGLE_BASE_URL: string };
  requests: MockRequest[];
  last(): MockRequest | undefined;
  /** Overrides answers for matching requests (newest intercept first); returns a remover. */
  intercept(match: MockMatch, handler: MockHandler): () => void;
  /** Resolves with the first `n` recorded requests once they have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<MockRequest[]>;
  /** Forgets recorded requests and intercepts. */
  reset(): void;
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

interface Intercept {
  match: MockMatch;
  handler: MockHandler;
  remaining: number;
}

const PREFIXES: [string, ProviderName][] = [
  ['/openai/v1', 'openai'],
  ['/anthropic', 'anthropic'],
  ['/google', 'google'],
  // Signed providers: point BYO_BEDROCK_BASE_URL / BYO_VERTEX_BASE_URL at `{url}/bedrock`, `{url}/vertex`.
  ['/bedrock', 'bedrock'],
  ['/vertex', 'vertex'],
];

/** A promise with its resolver, to hold a mock response until the test releases it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

export { sseEvent } from '../../src/sandbox/content.js';

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const requests: MockRequest[] = [];
  let intercepts: Intercept[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  let connections = 0;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const fullPath = q === -1 ? url : url.slice(0, q);
    const hit = PREFIXES.find(([p]) => fullPath === p || fullPath.startsWith(`${p}/`));
    const text = body.toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    let settle: (v: { completed: boolean; at: number }) => void = () => {};
    const closed = new Promise<{ completed: boolean; at: number }>((r) => {
      settle = r;
    });
    res.once('close', () => settle({ completed: res.writableFinished, at: Date.now() }));
    const record: MockRequest = {
      provider: hit ? hit[1] : null,
      method: req.method ?? 'GET',
      path: hit ? fullPath.slice(hit[0].length) || '/' : fullPath,
      url,
      query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      text,
      json,
      receivedAt: Date.now(),
      closed,
    };
    if (options.record !== false) {
      requests.push(record);
      for (const w of waiters) w();
    }

    const defaultReply = (): MockReply => {
      if (!record.provider) return { status: 404, json: { error: { message: `mock upstream: unknown path ${fullPath}` } } };
      const out = respondAs(
        record.provider,
        { method: record.method, path: record.path, query: record.query, body: json },
        {
          ...(options.text !== undefined ? { text: options.text } : {}),
          ...(options.chunks !== undefined ? { chunks: options.chunks } : {}),
        },
      );
      return { status: out.status, headers: out.headers, ...(out.events ? { events: out.events } : { body: out.body ?? '' }) };
    };
    const helpers: MockHelpers = { defaultReply, send: (reply) => send(res, reply) };
    try {
      const found = intercepts.find((i) => i.remaining > 0 && matches(i.match, record));
      if (found) {
        found.remaining--;
        const h = found.handler;
        if (typeof h === 'function') {
          const out = await h(record, res, helpers);
          if (out) await send(res, out);
        } else {
          await send(res, h);
        }
        return;
      }
      await send(res, defaultReply());
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `mock upstream handler failed: ${(err as Error).message}` } }));
      } else res.destroy();
    }
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const baseUrls: Record<'openai' | 'anthropic' | 'google', string> = {
    openai: `${url}/openai/v1`,
    anthropic: `${url}/anthropic`,
    google: `${url}/google`,
  };

  return {
    url,
    port,
    baseUrls,
    env: { BYO_OPENAI_BASE_URL: baseUrls.openai, BYO_ANTHROPIC_BASE_URL: baseUrls.anthropic, BYO_GOOGLE_BASE_URL: baseUrls.google },
    requests,
    get connections() {
      return connections;
    },
    last: () => requests[requests.length - 1],
    intercept(match, handler) {
      const entry: Intercept = {
        match,
        handler,
        remaining: typeof match === 'function' ? Number.POSITIVE_INFINITY : (match.times ?? Number.POSITIVE_INFINITY),
      };
      intercepts.unshift(entry);
      return () => {
        intercepts = intercepts.filter((i) => i !== entry);
      };
    },
    waitForRequests(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(requests.slice(0, n));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`mock upstream: ${requests.length} of ${n} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    reset() {
      requests.length = 0;
      intercepts = [];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function matches(m: MockMatch, r: MockRequest): boolean {
  if (typeof m === 'function') return m(r);
  if (m.provider && m.provider !== r.provider) return false;
  if (m.method && m.method.toUpperCase() !== r.method) return false;
  if (m.path !== undefined) {
    if (typeof m.path === 'string' ? m.path !== r.path : !m.path.test(r.path)) return false;
  }
  return true;
}

async function send(res: ServerResponse, reply: MockReply): Promise<void> {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  if (reply.events) {
    headers['content-type'] ??= 'text/event-stream; charset=utf-8';
    res.writeHead(reply.status ?? 200, headers);
    res.flushHeaders();
    for (const ev of reply.events) {
      if (res.destroyed) return;
      if (!res.write(ev)) await once(res, 'drain');
      if (reply.eventDelayMs) await new Promise((r) => setTimeout(r, reply.eventDelayMs));
    }
    res.end();
    return;
  }
  let body: string | Buffer = '';
  if (reply.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers['content-type'] ??= 'application/json';
  } else if (reply.body !== undefined) body = reply.body;
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(reply.status ?? 200, headers);
  res.end(body);
}
