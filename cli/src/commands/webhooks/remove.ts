import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

export default class WebhooksRemove extends BaseCommand<typeof WebhooksRemove> {
  static summary = 'Delete a webhook endpoint and its delivery log';
  static description = 'Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> webhooks remove we_123'];
  static args = { id: Args.string({ description: 'Endpoint id (we_...)', required: true }) };

  async run() {
    const r = await this.projectClient().webhooks.endpoints.delete.mutate({ id: this.args.id });
    this.info(`Deleted webhook endpoint ${r.id}.`);
    return r;
  }
}
