import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { deliveryColumns } from '../../lib/views.js';

export default class WebhooksRedeliver extends BaseCommand<typeof WebhooksRedeliver> {
  static summary = 'Send a delivery again';
  static description =
    'Queues the same event (same event id, so receivers can dedupe) with a fresh retry schedule. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> webhooks redeliver wd_123'];
  static args = { id: Args.string({ description: 'Delivery id (wd_...)', required: true }) };

  async run() {
    const d = await this.projectClient().webhooks.deliveries.redeliver.mutate({ id: this.args.id });
    this.table([d], deliveryColumns);
    this.info(`Queued ${d.id} for redelivery.`);
    return d;
  }
}
