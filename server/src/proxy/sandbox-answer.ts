import { performance } from 'node:perf_hooks';
import { readBody } from '../net/request-body.js';
import { badJson, sandboxRespond } from '../sandbox/index.js';
import { usageTapFor } from '../usage/extract.js';
import type { Call } from './call.js';
import { drainedOrCutOff } from './exchange.js';
import type { ProxyHandler } from './handler.js';
import { addProof, BASE_HEADERS } from './headers.js';

/** Parsed on the event loop: an 8 MiB JSON array stalled every call for about a second. */
const SANDBOX_BODY_LIMIT = 1024 * 1024;

/** Answers a test-mode call made with a magic key from the built-in sandbox: no network. */
export async function answerFromSandbox(proxy: ProxyHandler, call: Call, key: string): Promise<void> {
  const { req, res } = call;
  const method = (req.method ?? 'GET').toUpperCase();
  let body: unknown;
  let unparsable = false;
  if (method !== 'GET' && method !== 'HEAD') {
    const text = (call.ticket?.body ?? (await readBody(req, SANDBOX_BODY_LIMIT, 'The sandbox accepts'))).toString('utf8');
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        unparsable = true;
      }
    }
  }
  const out = unparsable
    ? badJson(call.provider)
    : sandboxRespond(call.provider, key, { method, path: call.subPath, query: new URLSearchParams(call.query), body });
  if (call.clientGone) return proxy.finish(call);
  call.source = 'sandbox';
  call.status = out.status;
  // The magic invalid key is refused like a real one, whatever the provider's finer rules.
  call.keyRejected = out.status === 401 || out.status === 403;
  const headers: Record<string, string> = {
    ...out.headers,
    ...BASE_HEADERS,
    'x-byo-request-id': call.requestId,
    'x-byo-sandbox': 'true',
  };
  addProof(headers, call.key?.proof);
  call.tap = usageTapFor(out.headers['content-type'], undefined);
  if (out.body !== undefined) {
    const buf = Buffer.from(out.body);
    call.tap?.push(buf);
    headers['content-length'] = String(buf.length);
    res.writeHead(out.status, headers);
    call.clientHeadersAt = performance.now();
    res.end(method === 'HEAD' ? undefined : buf);
    return proxy.finish(call);
  }
  res.writeHead(out.status, headers);
  res.flushHeaders();
  call.clientHeadersAt = performance.now();
  for (const event of out.events ?? []) {
    if (call.clientGone) break;
    const buf = Buffer.from(event);
    call.tap?.push(buf);
    if (!res.write(buf)) await drainedOrCutOff(res, proxy.idleReadMs, proxy);
    // Let each event leave as its own chunk, as a real stream's would.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!call.clientGone) res.end();
  proxy.finish(call);
}
