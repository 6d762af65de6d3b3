import type { App } from '../app.js';
import { WebhookDispatcher } from './dispatcher.js';

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
  services.onEventsCommitted = () => dispatcher.eventsCommitted();
  app.onClose(async () => {
    services.onEventsCommitted = () => {};
    await dispatcher.stop();
  });
}
