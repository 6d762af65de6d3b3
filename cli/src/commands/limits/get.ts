import { BaseCommand } from '../../base-command.js';
import { limitsFields, refIdFlag } from '../../lib/limits-view.js';

export default class LimitsGet extends BaseCommand<typeof LimitsGet> {
  static summary = "Show a customer's limits in force (its own or the project default) with their live use";
  static description = 'Without --ref-id, the project default. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> limits get --ref-id customer_123', '<%= config.bin %> limits get --json'];
  static flags = { 'ref-id': refIdFlag };

  async run() {
    const ref = this.flags['ref-id'];
    const client = this.projectClient().limits;
    const s = ref ? await client.customerGet.query({ refId: ref }) : await client.defaultGet.query();
    this.fields(limitsFields(s));
    return s;
  }
}
