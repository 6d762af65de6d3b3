import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { PROVIDERS, type ProviderName } from '../../lib/args.js';

const parse = async (v: string) => {
  if (v.trim() === '' || !Number.isFinite(Number(v))) throw new Error(`"${v}" is not a number of US dollars`);
  return v;
};
const required = (description: string) => Flags.string({ description, parse, required: true });
const optional = (description: string) => Flags.string({ description, parse });

export default class PricesSet extends BaseCommand<typeof PricesSet> {
  static summary = "Set this project's price for a model id (USD per million tokens)";
  static description =
    'Overrides the built-in table, or prices a model it lacks (a fine-tuned model, a custom deployment). A price set for a base id (gpt-4o) also covers its dated ids (gpt-4o-2024-08-06). A negative, absurd (over 10,000) or non-numeric price is refused. Needs a secret key (byo_sk_).';
  static examples = [
    '<%= config.bin %> prices set openai gpt-4o --input 2.5 --output 10 --cached-input 1.25',
    '<%= config.bin %> prices set openai ft:gpt-4o-mini-2024-07-18:acme::abc --input 0.3 --output 1.2',
  ];
  static args = {
    provider: Args.string({ description: 'Provider id', required: true, options: [...PROVIDERS] }),
    model: Args.string({ description: 'Model id, as the provider reports it', required: true }),
  };
  static flags = {
    input: required('USD per million input tokens'),
    output: required('USD per million output tokens'),
    'cached-input': optional('USD per million input tokens read from the prompt cache (default: the input price)'),
    'cache-write': optional('USD per million input tokens written to the prompt cache (default: the input price)'),
  };

  async run() {
    const f = this.flags;
    const p = await this.projectClient().prices.set.mutate({
      provider: this.args.provider as ProviderName,
      model: this.args.model,
      input: Number(f.input),
      output: Number(f.output),
      ...(f['cached-input'] !== undefined ? { cachedInput: Number(f['cached-input']) } : {}),
      ...(f['cache-write'] !== undefined ? { cacheWrite: Number(f['cache-write']) } : {}),
    });
    this.fields([
      ['provider', p.provider],
      ['model', p.model],
      ['input', p.input],
      ['output', p.output],
      ['cached input', p.cachedInput],
      ['cache write', p.cacheWrite],
    ]);
    return p;
  }
}
