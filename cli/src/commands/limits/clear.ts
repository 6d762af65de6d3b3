import { BaseCommand } from '../../base-command.js';
import { limitsFields, refIdFlag } from '../../lib/limits-view.js';

export default class LimitsClear extends BaseCommand<typeof LimitsClear> {
  static summary = "Clear a customer's limits (the project default applies again), or the project default";
  static description = 'Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> limits clear --ref-id customer_123', '<%= config.bin %> limits clear'];
  static flags = { 'ref-id': refIdFlag };

  async run() {
    const ref = this.flags['ref-id'];
    const client = this.projectClient().limits;
    const s = ref ? await client.customerClear.mutate({ refId: ref }) : await client.defaultClear.mutate();
    this.fields(limitsFields(s));
    return s;
  }
}
