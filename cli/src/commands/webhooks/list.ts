import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { limitFlag } from '../../lib/args.js';
import { endpointColumns, type WebhookEndpoint } from '../../lib/views.js';

export default class WebhooksList extends BaseCommand<typeof WebhooksList> {
  static summary = 'List webhook endpoints';
  static description = "Endpoints of the secret key's project and mode. Needs a secret key (byo_sk_).";
  static examples = ['<%= config.bin %> webhooks list', '<%= config.bin %> webhooks list --json'];
  static flags = { limit: limitFlag(100, 100), all: Flags.boolean({ description: 'Fetch every page' }) };

  async run() {
    const client = this.projectClient();
    const data: WebhookEndpoint[] = [];
    let cursor: string | undefined;
    let nextCursor: string | null = null;
    do {
      const page = await client.webhooks.endpoints.list.query({ limit: this.flags.limit, ...(cursor ? { cursor } : {}) });
      data.push(...page.data);
      nextCursor = page.nextCursor;
      cursor = nextCursor ?? undefined;
    } while (this.flags.all && cursor);
    this.table(data, endpointColumns, 'No webhook endpoints. Add one with `byo webhooks add <url>`.');
    return { data, nextCursor };
  }
}
