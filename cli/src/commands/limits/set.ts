import { BaseCommand } from '../../base-command.js';
import { limitsFlag } from '../../lib/limit-flag.js';
import { limitsFields, refIdFlag } from '../../lib/limits-view.js';

export default class LimitsSet extends BaseCommand<typeof LimitsSet> {
  static summary = "Replace a customer's limits, or the project default";
  static description =
    'Each --limit is metric:window:max[:provider]. The list replaces the current one (docs/spend-controls.md). Needs a secret key (byo_sk_).';
  static examples = [
    '<%= config.bin %> limits set --ref-id customer_123 --limit cost_usd:month:50 --limit requests:minute:60',
    '<%= config.bin %> limits set --limit tokens:day:200000:openai',
  ];
  static flags = { 'ref-id': refIdFlag, limit: limitsFlag({ withProvider: true }) };

  async run() {
    const ref = this.flags['ref-id'];
    const limits = this.flags.limit;
    const client = this.projectClient().limits;
    const s = ref ? await client.customerSet.mutate({ refId: ref, limits }) : await client.defaultSet.mutate({ limits });
    this.fields(limitsFields(s));
    return s;
  }
}
