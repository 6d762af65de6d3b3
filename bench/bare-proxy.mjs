// The least a Node.js HTTP proxy can do: node:http in front of an undici Pool, status, body and
// a content type passed through, nothing else (no auth, no key lookup, no header hygiene, no
// usage, no metrics, no timeouts). bench/proxy.mjs runs it as the "bare" column, so BYO's cost
// can be split into what any proxy in Node pays for the second HTTP hop and what BYO adds.
//   node bench/bare-proxy.mjs <upstream origin>   -> prints {"port":N}
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../server/package.json'));
const { Pool } = require('undici');
const upstream = new Pool(process.argv[2], { connections: 128, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  upstream.dispatch(
    {
      path: `/v1${req.url}`,
      method: req.method,
      headers: {
        'content-type': 'application/json',
        authorization: req.headers.authorization,
        'content-length': req.headers['content-length'],
      },
      body: req,
    },
    {
      onConnect() {},
      onError(err) {
        res.destroy(err);
      },
      onHeaders(status, raw) {
        let type = 'application/json';
        for (let i = 0; i < raw.length; i += 2) if (String(raw[i]).toLowerCase() === 'content-type') type = String(raw[i + 1]);
        res.writeHead(status, { 'content-type': type });
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
    },
  );
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
