#!/usr/bin/env node
// What a signed credential costs on the proxy path, in one run against the `openai` path: the
// same BYO process, the same fast local upstream, the same JSON call, through
//   openai  (the stored key sent as a header),
//   bedrock (the call signed with SigV4 by @smithy/signature-v4, body read whole first),
//   vertex  (an access token minted once from a service-account key, then taken from the cache).
// Rounds alternate the order; prints BYO's CPU time per call and calls/s, medians.
//
//   pnpm build
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/signed-providers.mjs [server/dist]
//   AB_ROUNDS=5 AB_DURATION=6 ...
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { byoBenchEnv, connectBenchKey } from './lib/byo.mjs';
import { printedPort, printedUrl, startChild } from './lib/child.mjs';
import { autocannonRun, median } from './lib/load.mjs';
import { cpuSeconds } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const DURATION = Number(process.env.AB_DURATION ?? 6);
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });

/** A token endpoint for the Vertex key (called once: the token is cached). */
async function startTokenEndpoint() {
  let exchanges = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exchanges++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `ya29.bench-${exchanges}`, expires_in: 3599 }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/token`, exchanges: () => exchanges };
}

async function connect(url, sk, body) {
  const res = await request(`${url}/v1/keys/connect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ refId: 'bench', ...body }),
  });
  if (res.statusCode !== 200) throw new Error(`connect ${body.provider} failed: ${await res.body.text()}`);
  await res.body.dump();
}

async function main() {
  const dist = resolve(process.argv[2] ?? join(here, '../server/dist'));
  const mock = await startChild(process.execPath, [join(here, 'mock-upstream-fast.mjs')], {}, printedPort);
  const upstream = `http://127.0.0.1:${mock.port}`;
  const tokens = await startTokenEndpoint();
  const { admin, env } = byoBenchEnv(`${upstream}/v1`);
  const byo = await startChild(
    process.execPath,
    [join(dist, 'main.js')],
    { ...env, BYO_BEDROCK_BASE_URL: upstream, BYO_VERTEX_BASE_URL: upstream, BYO_ALLOWED_UPSTREAM_HOSTS: '127.0.0.1' },
    printedUrl,
  );
  const sk = await connectBenchKey(byo.url, admin, 'sk-bench-upstream-key-0000000000');
  await connect(byo.url, sk, {
    provider: 'bedrock',
    providerKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    providerConfig: { region: 'us-east-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
  });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = {
    type: 'service_account',
    project_id: 'bench-project',
    private_key_id: 'bench0000',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'bench@bench-project.iam.gserviceaccount.com',
    token_uri: tokens.url,
  };
  await connect(byo.url, sk, { provider: 'vertex', providerKey: JSON.stringify(keyFile), providerConfig: { location: 'us-central1' } });

  const headers = { authorization: `Bearer ${sk}`, 'x-byo-ref-id': 'bench', 'content-type': 'application/json' };
  // Every path ends in /chat/completions, which is what the fast upstream answers: the upstream's work is the same for all three.
  const targets = [
    { name: 'openai', url: `${byo.url}/v1/proxy/openai/chat/completions` },
    { name: 'bedrock (SigV4)', url: `${byo.url}/v1/proxy/bedrock/model/bench-model/chat/completions` },
    { name: 'vertex (cached token)', url: `${byo.url}/v1/proxy/vertex/v1/projects/bench-project/locations/us-central1/chat/completions` },
  ].map((t) => ({ ...t, cpuPerCall: [], perSecond: [] }));
  const load = (t, seconds) => autocannonRun({ url: t.url, method: 'POST', headers, body: BODY, connections: 50, duration: seconds });
  for (const t of targets) {
    process.stderr.write(`warming up ${t.name} ...\n`);
    const r = await load(t, 4);
    if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors while warming up`);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const before = cpuSeconds(byo.child.pid);
      const r = await load(t, DURATION);
      const used = cpuSeconds(byo.child.pid) - before;
      if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      t.cpuPerCall.push((used * 1e6) / r.requests.total);
      t.perSecond.push(r.requests.total / DURATION);
    }
    console.log(
      `round ${round + 1}: ${targets.map((t) => `${t.name} ${t.cpuPerCall.at(-1).toFixed(1)} µs, ${Math.round(t.perSecond.at(-1))}/s`).join(' | ')}`,
    );
  }
  const base = median(targets[0].cpuPerCall);
  console.log(`token exchanges for the Vertex key: ${tokens.exchanges()}`);
  console.log('| path | CPU per JSON call (median) | vs openai | calls/s (median) |');
  console.log('|---|---|---|---|');
  for (const t of targets) {
    const cpu = median(t.cpuPerCall);
    console.log(
      `| ${t.name} | ${cpu.toFixed(1)} µs | ${t === targets[0] ? '' : `+${(cpu - base).toFixed(1)} µs`} | ${Math.round(median(t.perSecond))} |`,
    );
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
