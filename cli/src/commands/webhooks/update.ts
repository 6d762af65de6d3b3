import { Args, Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';
import { type EventFilter, eventsFlag } from '../../lib/webhook-flags.js';
import { endpointColumns } from '../../lib/views.js';

export default class WebhooksUpdate extends BaseCommand<typeof WebhooksUpdate> {
  static summary = 'Change a webhook endpoint';
  static description =
    'Only what you pass changes; --event replaces the list. --disable pauses the endpoint (its pending deliveries are marked failed); --enable clears its failure state. Needs a secret key (byo_sk_).';
  static examples = [
    '<%= config.bin %> webhooks update we_123 --url https://new.example.com/hooks',
    '<%= config.bin %> webhooks update we_123 --enable',
  ];
  static args = { id: Args.string({ description: 'Endpoint id (we_...)', required: true }) };
  static flags = {
    url: Flags.string({ description: 'New receiver URL' }),
    event: eventsFlag,
    description: Flags.string({ description: 'New description ("" clears it)' }),
    enable: Flags.boolean({ description: 'Resume the endpoint', exclusive: ['disable'] }),
    disable: Flags.boolean({ description: 'Pause the endpoint', exclusive: ['enable'] }),
  };

  async run() {
    const f = this.flags;
    const patch = {
      ...(f.url ? { url: f.url } : {}),
      ...(f.event ? { events: f.event as EventFilter[] } : {}),
      ...(f.description !== undefined ? { description: f.description === '' ? null : f.description } : {}),
      ...(f.enable ? { enabled: true } : f.disable ? { enabled: false } : {}),
    };
    if (Object.keys(patch).length === 0)
      throw new CliError('nothing_to_update', 'Nothing to update: pass --url, --event, --description, --enable or --disable.', EXIT.usage);
    const e = await this.projectClient().webhooks.endpoints.update.mutate({ id: this.args.id, ...patch });
    this.table([e], endpointColumns);
    return e;
  }
}
