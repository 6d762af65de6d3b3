import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { PROVIDERS, type ProviderName } from '../lib/args.js';
import type { Outputs } from '../lib/views.js';

type UsageRow = Outputs['usage']['get']['data'][number];

const day = (description: string) => Flags.string({ description, parse: async (v) => v.trim() });

export default class Usage extends BaseCommand<typeof Usage> {
  static summary = 'Show usage and cost of proxied calls by day, refId, provider, stored key and model';
  static description =
    "Counts and token totals the providers reported for calls through /v1/proxy, for the secret key's project and mode, newest day first. Default range: the last 30 days (UTC). Needs a secret key (byo_sk_).";
  static examples = [
    '<%= config.bin %> usage',
    '<%= config.bin %> usage --ref-id customer_123 --from 2026-01-01 --to 2026-01-31',
    '<%= config.bin %> usage --provider anthropic --model claude-sonnet-4-6 --json',
    '<%= config.bin %> usage --key-id key_3KfT8mWq9ZrV2nLp5YcH1a',
  ];
  static flags = {
    from: day('First UTC day (YYYY-MM-DD)'),
    to: day('Last UTC day (YYYY-MM-DD); default today'),
    'ref-id': Flags.string({ description: 'Only this refId' }),
    provider: Flags.string({ description: 'Only this provider', options: [...PROVIDERS] }),
    model: Flags.string({ description: 'Only this model, as the provider reported it' }),
    'key-id': Flags.string({ description: 'Only the calls this stored key paid for (its id, key_...)' }),
    limit: Flags.integer({ description: 'Rows per page (1-1000)', min: 1, max: 1000, default: 500 }),
    all: Flags.boolean({ description: 'Fetch every page' }),
  };

  async run() {
    const f = this.flags;
    const client = this.projectClient();
    const rows: UsageRow[] = [];
    let cursor: string | undefined;
    let page: Outputs['usage']['get'];
    do {
      page = await client.usage.get.query({
        limit: f.limit,
        ...(f.from ? { from: f.from } : {}),
        ...(f.to ? { to: f.to } : {}),
        ...(f['ref-id'] ? { refId: f['ref-id'] } : {}),
        ...(f.provider ? { provider: f.provider as ProviderName } : {}),
        ...(f.model ? { model: f.model } : {}),
        ...(f['key-id'] ? { keyId: f['key-id'] } : {}),
        ...(cursor ? { cursor } : {}),
      });
      rows.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (f.all && cursor);
    this.table(
      rows,
      [
        { header: 'day', get: (r) => r.day },
        { header: 'ref id', get: (r) => r.refId },
        { header: 'provider', get: (r) => r.provider },
        { header: 'key id', get: (r) => r.keyId },
        { header: 'model', get: (r) => r.model },
        { header: 'requests', get: (r) => r.requests },
        { header: 'errors', get: (r) => r.errors, style: (v) => (v !== '0' ? 'red' : undefined) },
        { header: 'input tokens', get: (r) => r.inputTokens },
        { header: 'output tokens', get: (r) => r.outputTokens },
        { header: 'cost usd', get: (r) => (r.costUsd === null ? 'unpriced' : r.costUsd.toFixed(6)) },
        { header: 'avg ms', get: (r) => r.avgLatencyMs },
      ],
      `No proxied calls between ${page.from} and ${page.to}.`,
    );
    const t = page.totals;
    this.info(
      `${page.from} to ${page.to}: ${t.requests} request(s), ${t.errors} error(s), ${t.inputTokens} input + ${t.outputTokens} output tokens, $${t.costUsd.toFixed(6)}${t.unpricedRequests ? ` (${t.unpricedRequests} unpriced call(s) not included)` : ''}.`,
    );
    if (page.nextCursor && !f.all) this.info(`More rows: --all`);
    return { from: page.from, to: page.to, data: rows, totals: page.totals, nextCursor: page.nextCursor };
  }
}
