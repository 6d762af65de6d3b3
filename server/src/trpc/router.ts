import { apiKeysRouter, auditRouter, projectsRouter } from './routers/admin.js';
import { dashboardRouter } from './routers/dashboard.js';
import { connectTokensRouter, keysRouter } from './routers/keys.js';
import { customersRouter } from './routers/customers.js';
import { limitsRouter } from './routers/limits.js';
import { pricesRouter } from './routers/prices.js';
import { providersRouter } from './routers/providers.js';
import { secretsRouter } from './routers/secrets.js';
import { usageRouter } from './routers/usage.js';
import { webhooksRouter } from './routers/webhooks.js';
import { router } from './init.js';

/** Every operation, for tRPC (`/trpc`) and, through its OpenAPI meta, REST (`/v1`). */
export const appRouter = router({
  keys: keysRouter,
  providers: providersRouter,
  connectTokens: connectTokensRouter,
  projects: projectsRouter,
  apiKeys: apiKeysRouter,
  audit: auditRouter,
  secrets: secretsRouter,
  webhooks: webhooksRouter,
  usage: usageRouter,
  prices: pricesRouter,
  limits: limitsRouter,
  customers: customersRouter,
  dashboard: dashboardRouter,
});

export type AppRouter = typeof appRouter;
