import { Args, Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';
import { formatDuration, parseDurationSeconds } from '../../lib/duration.js';
import { shortTime } from '../../lib/output.js';
import { createdKeyColumns } from '../../lib/views.js';

export default class ApiKeysRoll extends BaseCommand<typeof ApiKeysRoll> {
  static summary = 'Roll an API key: a new key now, the old one keeps working until --expires-in';
  static description =
    'Prints the new key once. The old key keeps working for the overlap (default 24h, at most 7d), so you can deploy the new one; `--expires-in 0` revokes the old key at once (use it when a key leaked). Needs the admin token.';
  static examples = [
    '<%= config.bin %> api-keys roll ak_7Hn2LpQ4sV8xDc3Fw1',
    '<%= config.bin %> api-keys roll ak_7Hn2LpQ4sV8xDc3Fw1 --expires-in 0',
  ];
  static args = { id: Args.string({ description: 'API key id (ak_...), not the key itself', required: true }) };
  static flags = {
    'expires-in': Flags.string({ description: 'How long the old key keeps working: 0, 30m, 24h, 7d (max 7d)', default: '24h' }),
  };

  async run() {
    let seconds: number;
    try {
      seconds = parseDurationSeconds(this.flags['expires-in']);
    } catch (err) {
      throw new CliError('invalid_usage', `--expires-in: ${(err as Error).message}.`, EXIT.usage);
    }
    if (seconds > 7 * 86_400) throw new CliError('invalid_usage', '--expires-in is at most 7d.', EXIT.usage);
    const rolled = await this.adminClient().apiKeys.roll.mutate({ id: this.args.id, expiresInSeconds: seconds });
    this.table([rolled.key], createdKeyColumns);
    this.info(
      seconds === 0
        ? `The old key ${rolled.previous.id} (${rolled.previous.keyHint}) is revoked.`
        : `The old key ${rolled.previous.id} (${rolled.previous.keyHint}) keeps working for ${formatDuration(seconds)}, until ${shortTime(rolled.previous.expiresAt)}.`,
    );
    this.warnUser('The new key above is shown only now; store it in your secret manager.');
    return rolled;
  }
}
