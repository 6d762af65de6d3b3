import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, buildApp } from './app.js';
import type { Config } from './config.js';
import { createProject } from './domain/projects.js';
import { FEATURES } from './features.js';
import type { Logger } from './observability/logger.js';

export interface RunningServer {
  app: App;
  url: string;
  port: number;
  /** Set only on the first start of an embedded server: the dev project's keys. */
  devKeys: DevKeys | null;
  close: () => Promise<void>;
}

export interface DevKeys {
  projectId: string;
  publishableKey: string;
  secretKey: string;
  adminToken?: string;
}

function writeSecretFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Embedded dev mode: an admin token kept in a 0600 file, so the CLI works out of the box. */
function ensureDevAdminToken(config: Config): Config {
  if (config.BYO_ADMIN_TOKEN || config.mode !== 'embedded' || config.BYO_EMBEDDED_STORAGE !== 'disk') return config;
  mkdirSync(config.BYO_DATA_DIR, { recursive: true, mode: 0o700 });
  const path = join(config.BYO_DATA_DIR, 'admin.token');
  if (!existsSync(path)) writeSecretFile(path, `byo_admin_${randomBytes(24).toString('base64url')}\n`);
  return { ...config, BYO_ADMIN_TOKEN: readFileSync(path, 'utf8').trim() };
}

async function seedDevProject(app: App, config: Config, logger: Logger): Promise<DevKeys | null> {
  if (!config.BYO_SEED_DEV_PROJECT || config.mode !== 'embedded' || config.BYO_EMBEDDED_STORAGE !== 'disk') return null;
  const { db } = app.services;
  const any = await db.selectFrom('projects').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const { project, keys } = await createProject(db, { name: 'Development' });
  const pk = keys.find((k) => k.row.kind === 'pk' && k.row.mode === 'test');
  const sk = keys.find((k) => k.row.kind === 'sk' && k.row.mode === 'test');
  if (!pk || !sk) throw new Error('dev project keys missing');
  const dev: DevKeys = { projectId: project.id, publishableKey: pk.key, secretKey: sk.key };
  if (config.BYO_ADMIN_TOKEN) dev.adminToken = config.BYO_ADMIN_TOKEN;
  const path = join(config.BYO_DATA_DIR, 'dev-keys.json');
  writeSecretFile(path, `${JSON.stringify(dev, null, 2)}\n`);
  logger.info({ path }, 'created the development project; its test keys are in this 0600 file');
  return dev;
}

export async function startServer(configIn: Config, logger: Logger): Promise<RunningServer> {
  const config = ensureDevAdminToken(configIn);
  const app = await buildApp(config, logger);
  try {
    for (const feature of FEATURES) await feature(app);
    const devKeys = await seedDevProject(app, config, logger);
    await app.fastify.listen({ host: config.HOST, port: config.PORT });
    const addr = app.fastify.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
    const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    return { app, url, port, devKeys, close: () => app.close() };
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
}
