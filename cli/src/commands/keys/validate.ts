import { BaseCommand, CliError, EXIT } from '../../base-command.js';
import { keyRefArgs, type ProviderName } from '../../lib/args.js';

export default class KeysValidate extends BaseCommand<typeof KeysValidate> {
  static summary = 'Check a stored key with its provider';
  static description =
    'Exit 0 when the provider accepts the key; 8 when it rejects it (the key is then marked disabled and key.disabled is sent); 7 when the provider could not be reached or answered 429/5xx. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> keys validate openai customer_123'];
  static args = keyRefArgs;

  async run() {
    const r = await this.projectClient().keys.validate.mutate({ provider: this.args.provider as ProviderName, refId: this.args.refId });
    const paint = r.result === 'valid' ? 'green' : r.result === 'invalid' ? 'red' : 'yellow';
    this.fields([
      ['result', this.paintOut(paint, r.result)],
      ['reason', r.reason],
      ['provider status', r.providerStatus],
      ['key', `${r.key.provider} ${r.key.refId} ${r.key.keyHint ?? ''} (${r.key.status})`],
      ['checked', r.checkedAt],
    ]);
    if (r.result === 'invalid') {
      throw new CliError(
        'key_invalid',
        `${r.reason ?? 'The provider rejected the key.'} The key is now disabled; ask the customer to connect a new one.`,
        EXIT.failed,
        { result: r },
      );
    }
    if (r.result === 'unknown') {
      throw new CliError(
        'validation_unknown',
        `${r.reason ?? 'The provider could not check the key.'} Try again later.`,
        EXIT.unavailable,
        {
          result: r,
        },
      );
    }
    return r;
  }
}
