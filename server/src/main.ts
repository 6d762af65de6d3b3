#!/usr/bin/env node
// First: V8 flags that must be set before the rest of the server allocates anything.
import './runtime-flags.js';
import cluster from 'node:cluster';
import { join } from 'node:path';
import { runPrimary } from './cluster/primary.js';
import { announceReady, inByoWorker } from './cluster/worker.js';
import { ConfigError, loadConfig } from './config.js';
import { migrateConfigured } from './db/migrate.js';
import { createLogger } from './observability/logger.js';
import type { RunningServer } from './server.js';
import { KeyringError } from './vault/keyring.js';

/** `byo-server [start|migrate]`. Start is the default. */
async function main(): Promise<void> {
  const command = process.argv[2] ?? 'start';
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(78);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });

  if (command === 'migrate') {
    const result = await migrateConfigured(config, logger);
    const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    return;
  }
  if (command !== 'start') {
    process.stderr.write(`unknown command "${command}". Usage: byo-server [start|migrate]\n`);
    process.exit(64);
  }

  if (config.BYO_WORKERS > 1 && cluster.isPrimary) {
    process.exit(await runPrimary(config, logger));
  }

  // Loaded here, not above: a cluster primary never loads the server's modules (less memory).
  const { startServer } = await import('./server.js');
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof KeyringError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const mode = config.mode === 'postgres' ? 'PostgreSQL' : `embedded database in ${join(config.BYO_DATA_DIR, 'pgdata')}`;
  // A cluster worker reports to the primary, which prints one banner for all workers.
  if (inByoWorker(config)) announceReady(server.url);
  else process.stderr.write(`\nBYO server listening on ${server.url} (${mode})\n`);
  if (server.devKeys) {
    const k = server.devKeys;
    process.stderr.write(
      [
        '',
        'Created a development project. Its test-mode keys (shown once; also saved, mode 0600, in',
        `${join(config.BYO_DATA_DIR, 'dev-keys.json')}):`,
        `  publishable key: ${k.publishableKey}`,
        `  secret key:      ${k.secretKey}`,
        k.adminToken ? `  admin token:     in ${join(config.BYO_DATA_DIR, 'admin.token')}` : '',
        '',
        'Try: curl -s -X POST ' +
          `${server.url}/v1/keys/connect -H "Authorization: Bearer ${k.publishableKey}" -H 'content-type: application/json' -d '{"provider":"openai","refId":"customer_try","providerKey":"sk-byo-test-valid"}'`,
        '',
      ].join('\n'),
    );
  } else if (config.mode === 'embedded') {
    process.stderr.write(`Development keys: ${join(config.BYO_DATA_DIR, 'dev-keys.json')}\n`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    server
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`fatal: ${(err as Error).message}\n`);
  process.exit(1);
});
