import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { limitLine } from '../../lib/limit-flag.js';
import { shortTime } from '../../lib/output.js';
import type { Outputs } from '../../lib/views.js';

type Row = Outputs['customers']['list']['data'][number];

export default class CustomersList extends BaseCommand<typeof CustomersList> {
  static summary = 'List customers (refIds with a stored key) with their keys, last use and this month’s usage and cost';
  static description = 'In refId byte order; --prefix narrows to refIds starting with it. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> customers list', '<%= config.bin %> customers list --prefix cust_ --json'];
  static flags = {
    prefix: Flags.string({ description: 'Only refIds starting with this' }),
    limit: Flags.integer({ description: 'Customers per page (1-100)', min: 1, max: 100, default: 50 }),
    all: Flags.boolean({ description: 'Fetch every page' }),
  };

  async run() {
    const f = this.flags;
    const client = this.projectClient();
    const rows: Row[] = [];
    let cursor: string | undefined;
    let page: Outputs['customers']['list'];
    do {
      page = await client.customers.list.query({
        limit: f.limit,
        ...(f.prefix ? { prefix: f.prefix } : {}),
        ...(cursor ? { cursor } : {}),
      });
      rows.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (f.all && cursor);
    this.table(
      rows,
      [
        { header: 'ref id', get: (c) => c.refId },
        { header: 'keys', get: (c) => c.keys.map((k) => `${k.provider}${k.status === 'active' ? '' : ` (${k.status})`}`).join(', ') },
        { header: 'last use', get: (c) => (c.lastUsedAt ? shortTime(c.lastUsedAt) : null) },
        { header: 'requests', get: (c) => c.thisMonth.requests },
        { header: 'tokens', get: (c) => c.thisMonth.totalTokens },
        { header: 'cost usd', get: (c) => c.thisMonth.costUsd.toFixed(6) },
        {
          header: 'limit use',
          get: (c) => (c.limitUse ? `${Math.round(c.limitUse.fraction * 100)}% (${limitLine(c.limitUse)})` : null),
        },
      ],
      f.prefix ? `No customer starts with ${f.prefix}.` : 'No customers yet.',
    );
    if (page.nextCursor && !f.all) this.info('More customers: --all');
    return { data: rows, nextCursor: page.nextCursor };
  }
}
