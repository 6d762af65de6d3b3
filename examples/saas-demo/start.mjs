#!/usr/bin/env node
// One command for the whole demo: `pnpm --filter byo-saas-demo start` (after `pnpm build`).
// Starts a BYO server in test mode (sandbox) with its own data directory, reads the dev
// project's keys it created, and starts the demo app against it. To use a BYO server you
// already run, set BYO_BASE_URL, BYO_PUBLISHABLE_KEY and BYO_SECRET_KEY (test-mode keys).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoServer } from './server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.PORT ?? 3100);
const BYO_PORT = Number(process.env.BYO_PORT ?? 3000);
const HOST = '127.0.0.1';

async function startByo() {
  const main = join(dirname(fileURLToPath(import.meta.resolve('byo-server'))), 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run "pnpm build" at the repository root first.`);
  const dataDir = process.env.BYO_DEMO_DATA_DIR ?? join(HERE, '.byo');
  // The demo's own embedded server: ignore DATABASE_URL & co. from the surrounding shell.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BYO_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$)/.test(k)));
  Object.assign(env, {
    HOST,
    PORT: String(BYO_PORT),
    BYO_DATA_DIR: dataDir,
    BYO_SANDBOX: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  if (BYO_PORT !== 0) env.BYO_PUBLIC_URL = `http://${HOST}:${BYO_PORT}`;
  const child = spawn(process.execPath, [main, 'start'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => {
    output += d.toString();
    process.stderr.write(d);
  });
  const byoBaseURL = await new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const url = /BYO server listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearInterval(check);
        resolve(url);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`the BYO server exited with code ${code}`));
    });
  });
  const keys = JSON.parse(readFileSync(join(dataDir, 'dev-keys.json'), 'utf8'));
  return { byoBaseURL, publishableKey: keys.publishableKey, secretKey: keys.secretKey, child };
}

const external = process.env.BYO_BASE_URL && process.env.BYO_SECRET_KEY && process.env.BYO_PUBLISHABLE_KEY;
const byo = external
  ? { byoBaseURL: process.env.BYO_BASE_URL, publishableKey: process.env.BYO_PUBLISHABLE_KEY, secretKey: process.env.BYO_SECRET_KEY }
  : await startByo();

const app = createDemoServer(byo);
app.listen(PORT, HOST, () => {
  process.stderr.write(`\nAcme Writer (the BYO demo) is running: open http://${HOST}:${app.address().port}\n`);
  process.stderr.write(`BYO server: ${byo.byoBaseURL} (test mode: connect the key sk-byo-test-valid)\n\n`);
});

function stop() {
  app.close();
  app.closeAllConnections?.();
  if (byo.child && byo.child.exitCode === null) {
    byo.child.once('exit', () => process.exit(0));
    byo.child.kill('SIGTERM');
  } else process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
