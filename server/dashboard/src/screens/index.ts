import { ApiKeysScreen } from './api-keys.js';
import { AuditScreen } from './audit.js';
import { CustomerScreen } from './customer.js';
import { CustomersScreen } from './customers.js';
import { CustomerLimits } from './limits.js';
import { MasterKeysScreen } from './master-keys.js';
import { OverviewScreen } from './overview.js';
import { WebhooksScreen } from './webhooks.js';

/** Registers every screen's element once (idempotent, as the badge's registration is). */
const SCREENS: Record<string, CustomElementConstructor> = {
  'byo-overview': OverviewScreen,
  'byo-customers': CustomersScreen,
  'byo-customer': CustomerScreen,
  'byo-customer-limits': CustomerLimits,
  'byo-webhooks': WebhooksScreen,
  'byo-api-keys': ApiKeysScreen,
  'byo-audit': AuditScreen,
  'byo-master-keys': MasterKeysScreen,
};
for (const [tag, ctor] of Object.entries(SCREENS)) if (!customElements.get(tag)) customElements.define(tag, ctor);
