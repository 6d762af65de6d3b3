// The demo app's backend: serves the page, tells it which customer is signed in, and answers
// "Ask the AI" through BYO's proxy with that customer's own key, streaming the answer.
// Plain Node.js, no framework, so the BYO parts stand out.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BYOK, BYOKError } from 'byo-sdk';

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
// The script-tag build of byo-connect: registers <byo-connect-form> and <byo-badge>.
const BYO_CONNECT_JS = join(dirname(fileURLToPath(import.meta.resolve('byo-connect'))), 'byo-connect.global.js');

/** Which model answers, per provider (the sandbox answers any model name in test mode). */
export const MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-sonnet-4-6', google: 'gemini-2.5-flash' };

/**
 * @param {{ byoBaseURL: string, publishableKey: string, secretKey: string }} config
 *   `secretKey` stays on this server; only the publishable key and the BYO URL reach the page.
 */
export function createDemoServer(config) {
  const byok = new BYOK({ apiKey: config.secretKey, baseURL: config.byoBaseURL });

  // A real app knows who is signed in; the demo gives each browser its own customer id (refId).
  function customer(req, res) {
    const match = /(?:^|;\s*)demo_customer=(customer_[A-Za-z0-9_-]{10,40})/.exec(req.headers.cookie ?? '');
    if (match) return match[1];
    const refId = `customer_${randomBytes(9).toString('base64url')}`;
    res.setHeader('set-cookie', `demo_customer=${refId}; Path=/; HttpOnly; SameSite=Lax`);
    return refId;
  }

  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `frame-src ${new URL(config.byoBaseURL).origin}`, // <byo-connect-form>'s iframe
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

  async function sendFile(res, path, type, headers = {}) {
    const body = await readFile(path);
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...headers });
    res.end(body);
  }

  function json(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  async function readJson(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > 16_384) throw new Error('body too large');
      chunks.push(chunk);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  }

  /** Streams the answer as plain text, chunk by chunk, as the provider produces it. */
  async function ask(req, res) {
    const refId = customer(req, res);
    let body;
    try {
      body = await readJson(req);
    } catch {
      return json(res, 400, { message: 'Send JSON: { "question": "...", "provider": "openai" }.' });
    }
    const question = typeof body.question === 'string' ? body.question.trim().slice(0, 2000) : '';
    const provider = body.provider;
    if (!question) return json(res, 400, { message: 'Ask a question.' });
    if (!(provider in MODELS)) return json(res, 400, { message: 'provider must be openai, anthropic or google.' });

    // The ask abort: if the page goes away, stop the upstream call (BYO aborts the provider's too).
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const options = { signal: abort.signal };
    const prompt = [{ role: 'user', content: question }];
    let chunks;
    try {
      if (provider === 'openai') {
        const stream = await byok
          .openai({ refId })
          .chat.completions.create({ model: MODELS.openai, messages: prompt, stream: true }, options);
        chunks = (async function* () {
          for await (const chunk of stream) yield chunk.choices[0]?.delta?.content ?? '';
        })();
      } else if (provider === 'anthropic') {
        const stream = await byok
          .anthropic({ refId })
          .messages.create({ model: MODELS.anthropic, max_tokens: 1024, messages: prompt, stream: true }, options);
        chunks = (async function* () {
          for await (const event of stream)
            if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') yield event.delta.text;
        })();
      } else {
        const stream = await byok.google({ refId }).generateContent.stream({ model: MODELS.google, contents: question }, options);
        chunks = (async function* () {
          for await (const chunk of stream) yield chunk.text ?? '';
        })();
      }
    } catch (err) {
      return json(res, errorStatus(err), { code: err?.code, message: explain(err, provider) });
    }

    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    try {
      for await (const text of chunks) if (text) res.write(text);
    } catch (err) {
      if (!abort.signal.aborted) res.write(`\n[The answer was cut off: ${explain(err, provider)}]`);
    }
    res.end();
  }

  /** What the page shows next to each provider: connected or not (metadata only, never the key). */
  async function keys(req, res) {
    const refId = customer(req, res);
    const page = await byok.keys.list({ refId, limit: 10 });
    const out = {};
    for (const key of page.data) out[key.provider] = { status: key.status, keyHint: key.keyHint };
    json(res, 200, { refId, keys: out });
  }

  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    try {
      if (req.method === 'GET' && url.pathname === '/') {
        customer(req, res);
        return await sendFile(res, join(PUBLIC, 'index.html'), 'text/html; charset=utf-8', {
          'content-security-policy': csp,
          'referrer-policy': 'strict-origin-when-cross-origin',
        });
      }
      if (req.method === 'GET' && url.pathname === '/app.js')
        return await sendFile(res, join(PUBLIC, 'app.js'), 'text/javascript; charset=utf-8');
      if (req.method === 'GET' && url.pathname === '/style.css')
        return await sendFile(res, join(PUBLIC, 'style.css'), 'text/css; charset=utf-8');
      if (req.method === 'GET' && url.pathname === '/vendor/byo-connect.js')
        return await sendFile(res, BYO_CONNECT_JS, 'text/javascript; charset=utf-8');
      if (req.method === 'GET' && url.pathname === '/api/session') {
        // The publishable key is public by design; the secret key never leaves this process.
        return json(res, 200, { refId: customer(req, res), publishableKey: config.publishableKey, byoBaseURL: config.byoBaseURL });
      }
      if (req.method === 'GET' && url.pathname === '/api/keys') return await keys(req, res);
      if (req.method === 'POST' && url.pathname === '/api/ask') return await ask(req, res);
      json(res, 404, { message: 'Not found.' });
    } catch (err) {
      console.error('demo error:', err instanceof Error ? err.message : err);
      if (!res.headersSent) json(res, 500, { message: 'Something went wrong.' });
      else res.end();
    }
  });
}

function errorStatus(err) {
  if (err instanceof BYOKError && err.statusCode && err.statusCode < 500) return err.statusCode === 404 ? 409 : err.statusCode;
  return 502;
}

/** BYO's error codes, in words for the customer. */
function explain(err, provider) {
  const code = err?.code;
  if (code === 'key_not_found') return `Connect your ${provider} key first.`;
  if (code === 'key_revoked' || code === 'key_disabled') return `Your ${provider} key no longer works. Connect a new one.`;
  if (code === 'upstream_timeout' || code === 'upstream_unreachable') return `${provider} did not answer. Try again in a moment.`;
  return err instanceof Error ? err.message : 'The AI call failed.';
}
