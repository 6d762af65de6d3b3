import { Args } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';

export default class WebhooksTest extends BaseCommand<typeof WebhooksTest> {
  static summary = 'Send a webhook.test event now and print the result';
  static description =
    'One signed attempt through the normal delivery path. Prints the status code, latency and the first bytes of the answer. Exit 8 when the endpoint does not answer 2xx. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> webhooks test we_123', '<%= config.bin %> webhooks test we_123 --json'];
  static args = { id: Args.string({ description: 'Endpoint id (we_...)', required: true }) };

  async run() {
    const r = await this.projectClient().webhooks.endpoints.test.mutate({ id: this.args.id });
    this.fields([
      ['result', r.success ? this.paintOut('green', 'delivered') : this.paintOut('red', 'failed')],
      ['status code', r.statusCode],
      ['latency', `${r.latencyMs} ms`],
      ['error', r.error],
      ['event id', r.eventId],
      ['delivery', r.delivery.id],
      ['response', r.responseBody],
    ]);
    if (!r.success) {
      const why = r.statusCode ? `answered HTTP ${r.statusCode}` : `could not be reached${r.error ? ` (${r.error})` : ''}`;
      throw new CliError(
        'webhook_test_failed',
        `The endpoint ${why}. Check that the receiver is up and returns 2xx, then run \`byo webhooks test ${this.args.id}\` again.`,
        EXIT.failed,
        { result: r },
      );
    }
    return r;
  }
}
