import { Args, Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';
import { formatDuration, parseDurationSeconds } from '../../lib/duration.js';
import { shortTime } from '../../lib/output.js';

export default class WebhooksRotateSecret extends BaseCommand<typeof WebhooksRotateSecret> {
  static summary = "Rotate an endpoint's signing secret, with an overlap";
  static description =
    'Prints the new whsec_ secret once. During the overlap (default 24h, at most 7d) every delivery is signed with both the new and the previous secret, so the receiver can switch without losing events; --overlap 0 stops the old secret at once. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> webhooks rotate-secret we_123', '<%= config.bin %> webhooks rotate-secret we_123 --overlap 0'];
  static args = { id: Args.string({ description: 'Endpoint id (we_...)', required: true }) };
  static flags = {
    overlap: Flags.string({ description: 'How long the previous secret keeps signing: 0, 30m, 24h, 7d (max 7d)', default: '24h' }),
  };

  async run() {
    let seconds: number;
    try {
      seconds = parseDurationSeconds(this.flags.overlap);
    } catch (err) {
      throw new CliError('invalid_usage', `--overlap: ${(err as Error).message}.`, EXIT.usage);
    }
    if (seconds > 7 * 86_400) throw new CliError('invalid_usage', '--overlap is at most 7d.', EXIT.usage);
    const r = await this.projectClient().webhooks.endpoints.rotateSecret.mutate({ id: this.args.id, overlapSeconds: seconds });
    this.fields([['new signing secret (shown once)', r.secret]]);
    this.info(
      r.previousSecretExpiresAt
        ? `The previous secret also signs deliveries for ${formatDuration(seconds)}, until ${shortTime(r.previousSecretExpiresAt)}.`
        : 'The previous secret no longer signs deliveries.',
    );
    this.warnUser('The new signing secret above is shown only now; give it to your receiver.');
    return r;
  }
}
