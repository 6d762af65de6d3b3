import { Args, Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';
import { projectColumns } from '../../lib/views.js';
import { projectSettingFlags } from './create.js';

export default class ProjectsUpdate extends BaseCommand<typeof ProjectsUpdate> {
  static summary = "Change a project's settings";
  static description =
    'Only the settings you pass change. List flags replace the whole list; --clear-allowed-origins and --clear-allowed-base-url-hosts empty it. Needs the admin token.';
  static examples = [
    '<%= config.bin %> projects update proj_123 --allowed-origin https://app.acme.com --allowed-origin https://staging.acme.com',
    '<%= config.bin %> projects update proj_123 --publishable-connect token_required --no-validate-on-connect',
  ];

  static args = { id: Args.string({ description: 'Project id (proj_...)', required: true }) };
  static flags = {
    name: Flags.string({ description: 'New name' }),
    ...projectSettingFlags,
    'clear-allowed-origins': Flags.boolean({ description: 'Remove every allowed origin', exclusive: ['allowed-origin'] }),
    'clear-allowed-base-url-hosts': Flags.boolean({
      description: 'Remove every allowed base URL host',
      exclusive: ['allowed-base-url-host'],
    }),
  };

  async run() {
    const f = this.flags;
    const settings = {
      ...(f.name ? { name: f.name } : {}),
      ...(f['allowed-origin'] ? { allowedOrigins: f['allowed-origin'] } : f['clear-allowed-origins'] ? { allowedOrigins: [] } : {}),
      ...(f['allowed-base-url-host']
        ? { allowedBaseUrlHosts: f['allowed-base-url-host'] }
        : f['clear-allowed-base-url-hosts']
          ? { allowedBaseUrlHosts: [] }
          : {}),
      ...(f['validate-on-connect'] === undefined ? {} : { validateOnConnect: f['validate-on-connect'] }),
      ...(f['publishable-connect'] ? { publishableConnect: f['publishable-connect'] as 'open' | 'token_required' } : {}),
    };
    if (Object.keys(settings).length === 0) {
      throw new CliError(
        'nothing_to_update',
        'Nothing to update: pass at least one of --name, --allowed-origin, --allowed-base-url-host, --[no-]validate-on-connect, --publishable-connect, --clear-allowed-origins, --clear-allowed-base-url-hosts.',
        EXIT.usage,
      );
    }
    const p = await this.adminClient().projects.update.mutate({ id: this.args.id, ...settings });
    this.table([p], projectColumns);
    this.info(`Updated ${Object.keys(settings).join(', ')}.`);
    return p;
  }
}
