import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { PROVIDERS, type ProviderName } from '../../lib/args.js';

export default class PricesDelete extends BaseCommand<typeof PricesDelete> {
  static summary = "Remove this project's price for a model id (the built-in price, if any, applies again)";
  static examples = ['<%= config.bin %> prices delete openai gpt-4o'];
  static args = {
    provider: Args.string({ description: 'Provider id', required: true, options: [...PROVIDERS] }),
    model: Args.string({ description: 'Model id', required: true }),
  };

  async run() {
    const r = await this.projectClient().prices.delete.mutate({ provider: this.args.provider as ProviderName, model: this.args.model });
    this.info(r.deleted ? `Removed the price of ${r.provider} ${r.model}.` : `No price was set for ${r.provider} ${r.model}.`);
    return r;
  }
}
