export { buildApp, type App } from './app.js';
export { loadConfig, type Config } from './config.js';
export { createLogger } from './observability/logger.js';
export { startServer, type RunningServer } from './server.js';
export type { AppRouter } from './trpc/router.js';
