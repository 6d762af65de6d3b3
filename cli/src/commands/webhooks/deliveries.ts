import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { limitFlag } from '../../lib/args.js';
import { deliveryColumns, type WebhookDelivery } from '../../lib/views.js';
import { EVENT_TYPES, type EventType } from '../../lib/webhook-flags.js';

export default class WebhooksDeliveries extends BaseCommand<typeof WebhooksDeliveries> {
  static summary = 'Show the delivery log, newest first';
  static description = 'Needs a secret key (byo_sk_).';
  static examples = [
    '<%= config.bin %> webhooks deliveries --status failed',
    '<%= config.bin %> webhooks deliveries --endpoint we_123 --event key.disabled --json',
  ];
  static flags = {
    endpoint: Flags.string({ description: 'Only this endpoint id' }),
    event: Flags.string({
      description: 'Only this event type',
      options: [...EVENT_TYPES],
    }),
    'event-id': Flags.string({ description: 'Only deliveries of this event id (evt_...)' }),
    status: Flags.string({ description: 'Only this status', options: ['pending', 'succeeded', 'failed'] }),
    limit: limitFlag(100),
    cursor: Flags.string({ description: 'Continue from a previous page (nextCursor)' }),
  };

  async run() {
    const f = this.flags;
    const page = await this.projectClient().webhooks.deliveries.list.query({
      limit: f.limit,
      ...(f.endpoint ? { endpointId: f.endpoint } : {}),
      ...(f.event ? { eventType: f.event as EventType } : {}),
      ...(f['event-id'] ? { eventId: f['event-id'] } : {}),
      ...(f.status ? { status: f.status as 'pending' } : {}),
      ...(f.cursor ? { cursor: f.cursor } : {}),
    });
    const data: WebhookDelivery[] = page.data;
    this.table(data, deliveryColumns, 'No deliveries match.');
    if (page.nextCursor) this.info(`More deliveries: --cursor ${page.nextCursor}`);
    return page;
  }
}
