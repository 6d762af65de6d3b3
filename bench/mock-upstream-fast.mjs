// A minimal OpenAI-compatible upstream that answers as fast as it can (the benchmark's "limit").
// POST /v1/chat/completions: JSON, or SSE with ~20 chunks when the body has "stream":true.
// A request with header `x-bench-hold: <ms>` gets its headers and first chunk at once, then the
// rest after <ms> (used to hold many streams open).
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const JSON_BODY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark upstream.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
});
const chunk = (content, finish = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;
const SSE_CHUNKS = [];
for (let i = 0; i < 19; i++) SSE_CHUNKS.push(chunk(`tok${i} `));
SSE_CHUNKS.push(chunk(null, 'stop'));
SSE_CHUNKS.push(
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 } })}\n\n`,
);
SSE_CHUNKS.push('data: [DONE]\n\n');

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    if (!req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found"}}');
      return;
    }
    if (!/"stream"\s*:\s*true/.test(body)) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON_BODY) });
      res.end(JSON_BODY);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const hold = Number(req.headers['x-bench-hold'] ?? 0);
    if (hold > 0) {
      res.write(SSE_CHUNKS[0]);
      setTimeout(() => {
        for (let i = 1; i < SSE_CHUNKS.length; i++) res.write(SSE_CHUNKS[i]);
        res.end();
      }, hold);
      return;
    }
    for (const c of SSE_CHUNKS) res.write(c);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
