import type { App } from '../app.js';
import type { Services } from '../services.js';
import { WebhookDispatcher } from './dispatcher.js';

const running = new WeakMap<Services, WebhookDispatcher>();

/** The dispatcher running for these services, if any (metrics, tests). */
export function dispatcherOf(services: Services): WebhookDispatcher | undefined {
  return running.get(services);
}

/**
 * The webhook dispatcher as a server feature: started with the server (unless BYO_WEBHOOKS is
 * false), woken by every commit that wrote events, stopped before the database closes.
 * The endpoints API is part of the router and works either way.
 */
export async function webhooksFeature(app: App): Promise<void> {
  const { services } = app;
  if (!services.config.BYO_WEBHOOKS) return;
  const dispatcher = new WebhookDispatcher(services);
  await dispatcher.start();
  running.set(services, dispatcher);
  services.onEventsCommitted = () => dispatcher.eventsCommitted();
  app.onClose(async () => {
    services.onEventsCommitted = () => {};
    await dispatcher.stop();
  });
}
