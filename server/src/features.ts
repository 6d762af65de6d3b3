import type { App } from './app.js';
import { connectEmbed } from './connect-embed/index.js';
import { dashboardPage } from './dashboard-page/index.js';
import { docsPage } from './docs-page/index.js';
import { keyHealthFeature } from './key-health/feature.js';
import { proxyFeature } from './proxy/index.js';
import { webhooksFeature } from './webhooks/feature.js';
import { retentionFeature } from './webhooks/retention.js';

/**
 * Subsystems that attach to a built app (routes, background workers). Each registers its
 * routes and its shutdown step through `app.onClose`. Order matters only for routes.
 */
export type Feature = (app: App) => Promise<void> | void;

export const FEATURES: Feature[] = [
  docsPage,
  dashboardPage,
  webhooksFeature,
  retentionFeature,
  keyHealthFeature,
  connectEmbed,
  proxyFeature,
];
