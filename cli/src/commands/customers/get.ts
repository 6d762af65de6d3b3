import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { limitLine } from '../../lib/limit-flag.js';
import { shortTime } from '../../lib/output.js';

export default class CustomersGet extends BaseCommand<typeof CustomersGet> {
  static summary = 'Show a customer: its keys, its limits with their live use, its usage this month';
  static description = 'Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> customers get customer_123', '<%= config.bin %> customers get customer_123 --json'];
  static args = { refId: Args.string({ description: 'The customer’s refId', required: true }) };

  async run() {
    const c = await this.projectClient().customers.get.query({ refId: this.args.refId });
    const m = c.thisMonth;
    this.fields([
      ['ref id', c.refId],
      ['keys', c.keys.map((k) => `${k.provider} ${k.status} ${k.keyHint ?? ''}`.trim()).join(', ')],
      ['last use', c.lastUsedAt ? shortTime(c.lastUsedAt) : null],
      [
        `${m.month}`,
        `${m.requests} request(s), ${m.totalTokens} tokens, $${m.costUsd.toFixed(6)}${m.unpricedRequests ? ` (+${m.unpricedRequests} unpriced)` : ''}`,
      ],
      [
        `limits (${c.limits.source})`,
        c.limits.limits.map((l) => `${l.metric}/${l.window}${l.provider ? ` ${l.provider}` : ''}: ${l.used} of ${l.max}`).join('; ') ||
          null,
      ],
      ["owners' caps", c.ownerCaps.map((o) => `${o.provider} key: ${o.limits.map(limitLine).join('; ')}`).join('; ') || null],
    ]);
    return c;
  }
}
