import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { type EventFilter, eventsFlag } from '../../lib/webhook-flags.js';
import { endpointColumns } from '../../lib/views.js';

export default class WebhooksAdd extends BaseCommand<typeof WebhooksAdd> {
  static summary = 'Add a webhook endpoint and print its signing secret (once)';
  static description =
    "Events of the secret key's mode are POSTed to the URL, signed with X-BYO-Signature and the Standard Webhooks headers. The whsec_ secret goes to stdout once; BYO keeps it encrypted and never shows it again. Needs a secret key (byo_sk_).";
  static examples = [
    '<%= config.bin %> webhooks add https://app.example.com/byo/webhooks',
    '<%= config.bin %> webhooks add https://app.example.com/hooks --event key.disabled --event key.revoked --description "key alerts"',
  ];
  static args = { url: Args.string({ description: 'Receiver URL (https; http is accepted in test mode)', required: true }) };
  static flags = {
    event: eventsFlag,
    description: Flags.string({ description: 'A note for yourself' }),
    disabled: Flags.boolean({ description: 'Create it paused' }),
  };

  async run() {
    const e = await this.projectClient().webhooks.endpoints.create.mutate({
      url: this.args.url,
      events: (this.flags.event as EventFilter[] | undefined) ?? ['*'],
      enabled: !this.flags.disabled,
      ...(this.flags.description ? { description: this.flags.description } : {}),
    });
    this.table([e], endpointColumns);
    this.out();
    this.fields([['signing secret (shown once)', e.secret]]);
    this.warnUser('The signing secret above is shown only now; store it where your receiver can read it.');
    return e;
  }
}
