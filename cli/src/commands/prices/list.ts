import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { PROVIDERS, type ProviderName } from '../../lib/args.js';

export default class PricesList extends BaseCommand<typeof PricesList> {
  static summary = "List prices (USD per million tokens): this project's overrides, then the built-in table";
  static description =
    "With --provider and --model, shows the one price that model id resolves to (a dated id such as gpt-4o-2024-08-06 resolves to gpt-4o); none means the model is unpriced and its calls cost null. Prices are per project and mode (the secret key's). Needs a secret key (byo_sk_).";
  static examples = [
    '<%= config.bin %> prices list --provider anthropic',
    '<%= config.bin %> prices list --provider openai --model gpt-4o-2024-08-06',
    '<%= config.bin %> prices list --json',
  ];
  static flags = {
    provider: Flags.string({ description: 'Only this provider', options: [...PROVIDERS] }),
    model: Flags.string({ description: 'Resolve this model id (needs --provider)', dependsOn: ['provider'] }),
  };

  async run() {
    const f = this.flags;
    const page = await this.projectClient().prices.list.query({
      ...(f.provider ? { provider: f.provider as ProviderName } : {}),
      ...(f.model ? { model: f.model } : {}),
    });
    const usd = (v: number | null) => (v === null ? null : String(v));
    this.table(
      page.data,
      [
        { header: 'provider', get: (p) => p.provider },
        { header: 'model', get: (p) => p.model },
        { header: 'input', get: (p) => usd(p.input) },
        { header: 'output', get: (p) => usd(p.output) },
        { header: 'cached input', get: (p) => usd(p.cachedInput) },
        { header: 'cache write', get: (p) => usd(p.cacheWrite) },
        { header: 'source', get: (p) => p.source },
      ],
      f.model
        ? `${f.model} is unpriced: its calls cost null. Set a price with: byo prices set ${f.provider} ${f.model} --input <usd> --output <usd>`
        : 'No prices.',
    );
    this.info(`USD per million tokens. Built-in table as of ${page.asOf}.`);
    return page;
  }
}
