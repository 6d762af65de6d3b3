import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { apiKeyColumns } from '../../lib/views.js';

export default class ApiKeysRevoke extends BaseCommand<typeof ApiKeysRevoke> {
  static summary = 'Revoke an API key at once';
  static description = 'Requests with the key get 401 from the next request on. Idempotent. Needs the admin token.';
  static examples = ['<%= config.bin %> api-keys revoke ak_7Hn2LpQ4sV8xDc3Fw1'];
  static args = { id: Args.string({ description: 'API key id (ak_...), not the key itself', required: true }) };

  async run() {
    const key = await this.adminClient().apiKeys.revoke.mutate({ id: this.args.id });
    this.table([key], apiKeyColumns);
    this.info(`Revoked ${key.id} (${key.keyHint}).`);
    return key;
  }
}
