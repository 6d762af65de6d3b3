import { Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../base-command.js';
import { limitFlag } from '../lib/args.js';
import { parseDurationSeconds } from '../lib/duration.js';
import { shortTime } from '../lib/output.js';

export default class Audit extends BaseCommand<typeof Audit> {
  static summary = 'Show the audit log, newest first';
  static description =
    'Every write (API, CLI, dashboard) appends one row: actor, action, target id, time, IP. Secrets never appear in it. Needs the admin token.';
  static examples = [
    '<%= config.bin %> audit --since 24h',
    '<%= config.bin %> audit --action api_key.rolled --actor admin',
    '<%= config.bin %> audit --project proj_123 --since 2026-01-01T00:00:00Z --json',
  ];
  static flags = {
    actor: Flags.string({ description: 'Only this actor, e.g. admin or api_key:ak_...' }),
    action: Flags.string({ description: 'Only this action, e.g. key.revoked' }),
    since: Flags.string({ description: 'Only entries since this time: an ISO timestamp, or a duration ago (30m, 24h, 7d)' }),
    project: Flags.string({ description: 'Only this project id' }),
    limit: limitFlag(500, 50),
  };

  async run() {
    const f = this.flags;
    let since: string | undefined;
    if (f.since) {
      if (/^\d+\s*[smhd]?$/.test(f.since)) since = new Date(Date.now() - parseDurationSeconds(f.since) * 1000).toISOString();
      else if (!Number.isNaN(Date.parse(f.since))) since = new Date(f.since).toISOString();
      else
        throw new CliError(
          'invalid_usage',
          '--since takes an ISO timestamp (2026-01-01T00:00:00Z) or a duration ago (30m, 24h, 7d).',
          EXIT.usage,
        );
    }
    const { data } = await this.adminClient().audit.list.query({
      limit: f.limit,
      ...(f.actor ? { actor: f.actor } : {}),
      ...(f.action ? { action: f.action } : {}),
      ...(f.project ? { projectId: f.project } : {}),
      ...(since ? { since } : {}),
    });
    this.table(
      data,
      [
        { header: 'time', get: (e) => shortTime(e.createdAt) },
        { header: 'actor', get: (e) => e.actor },
        { header: 'action', get: (e) => e.action },
        { header: 'target', get: (e) => e.target },
        { header: 'project', get: (e) => e.projectId },
        { header: 'mode', get: (e) => e.mode },
        { header: 'ip', get: (e) => e.ip },
      ],
      'No audit entries match.',
    );
    return data;
  }
}
