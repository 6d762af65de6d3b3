import { BaseCommand } from '../../base-command.js';
import { keyRefArgs, type ProviderName } from '../../lib/args.js';
import { limitsFlag } from '../../lib/limit-flag.js';
import { keyFields } from './get.js';

export default class KeysLowerLimits extends BaseCommand<typeof KeysLowerLimits> {
  static summary = "Lower the key owner's cap (the limits the customer gave when connecting the key)";
  static description =
    'Each --limit is metric:window:max. Every limit of the current cap must stay with a max no higher; limits may be added. Raising or dropping one is refused (owner_limit_locked): only the customer, connecting the key again, can. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> keys lower-limits openai customer_123 --limit cost_usd:month:20'];
  static args = keyRefArgs;
  static flags = { limit: limitsFlag({ withProvider: false }) };

  async run() {
    const k = await this.projectClient().keys.lowerLimits.mutate({
      provider: this.args.provider as ProviderName,
      refId: this.args.refId,
      limits: this.flags.limit,
    });
    this.fields(keyFields(k));
    return k;
  }
}
