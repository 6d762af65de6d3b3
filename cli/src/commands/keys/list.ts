import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { limitFlag, PROVIDERS, type ProviderName } from '../../lib/args.js';
import { type ProviderKey, providerKeyColumns } from '../../lib/views.js';

export default class KeysList extends BaseCommand<typeof KeysList> {
  static summary = "List customers' stored provider keys (metadata only)";
  static description =
    "Lists the keys of the secret key's project and mode (a test key sees test keys only). Newest first; --all follows every page. Needs a secret key (byo_sk_).";
  static examples = [
    '<%= config.bin %> keys list',
    '<%= config.bin %> keys list --provider openai --status disabled',
    '<%= config.bin %> keys list --last-outcome unreachable',
    '<%= config.bin %> keys list --ref-id customer_123 --json',
  ];
  static flags = {
    'ref-id': Flags.string({ description: 'Only this refId' }),
    provider: Flags.string({ description: 'Only this provider', options: [...PROVIDERS] }),
    status: Flags.string({ description: 'Only keys in this status', options: ['active', 'revoked', 'disabled'] }),
    'last-outcome': Flags.string({
      description: "Only keys whose last check had this outcome (see 'byo keys health')",
      options: ['valid', 'invalid', 'unreachable'],
    }),
    limit: limitFlag(100),
    cursor: Flags.string({ description: 'Continue from a previous page (nextCursor)' }),
    all: Flags.boolean({ description: 'Fetch every page', exclusive: ['cursor'] }),
  };

  async run() {
    const client = this.projectClient();
    const f = this.flags;
    const data: ProviderKey[] = [];
    let cursor = f.cursor;
    let nextCursor: string | null = null;
    do {
      const page = await client.keys.list.query({
        limit: f.limit,
        ...(f['ref-id'] ? { refId: f['ref-id'] } : {}),
        ...(f.provider ? { provider: f.provider as ProviderName } : {}),
        ...(f.status ? { status: f.status as 'active' } : {}),
        ...(f['last-outcome'] ? { lastOutcome: f['last-outcome'] as 'valid' } : {}),
        ...(cursor ? { cursor } : {}),
      });
      data.push(...page.data);
      nextCursor = page.nextCursor;
      cursor = nextCursor ?? undefined;
    } while (f.all && cursor);
    this.table(data, providerKeyColumns, 'No keys match.');
    if (nextCursor && !f.all) this.info(`More keys: --cursor ${nextCursor} (or --all)`);
    return { data, nextCursor };
  }
}
