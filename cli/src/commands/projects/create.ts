import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { createdKeyColumns, projectColumns } from '../../lib/views.js';

export const projectSettingFlags = {
  'allowed-origin': Flags.string({
    description: 'Browser origin allowed to connect keys with the publishable key, e.g. https://app.example.com (replaces the list)',
    multiple: true,
  }),
  'allowed-base-url-host': Flags.string({
    description:
      'Host a publishable key may set as an OpenAI-compatible base URL, e.g. llm.example.com or *.example.com (replaces the list)',
    multiple: true,
  }),
  'validate-on-connect': Flags.boolean({ description: 'Check every connected key with its provider before storing it', allowNo: true }),
  'publishable-connect': Flags.string({
    description:
      'open: a publishable key may store a first key for a refId; token_required: every publishable connect needs a connect token',
    options: ['open', 'token_required'],
  }),
};

export default class ProjectsCreate extends BaseCommand<typeof ProjectsCreate> {
  static summary = 'Create a project and print its four API keys (once)';
  static description =
    'Creates the project with a publishable and a secret key for each of test and live mode. The keys are printed once, to stdout; only their hashes are stored. Needs the admin token.';
  static examples = [
    '<%= config.bin %> projects create "Acme" --allowed-origin https://app.acme.com',
    '<%= config.bin %> projects create Acme --json > acme-keys.json',
  ];

  static args = { name: Args.string({ description: 'Project name', required: true }) };
  static flags = { ...projectSettingFlags };

  async run() {
    const f = this.flags;
    const created = await this.adminClient().projects.create.mutate({
      name: this.args.name,
      ...(f['allowed-origin'] ? { allowedOrigins: f['allowed-origin'] } : {}),
      ...(f['allowed-base-url-host'] ? { allowedBaseUrlHosts: f['allowed-base-url-host'] } : {}),
      ...(f['validate-on-connect'] === undefined ? {} : { validateOnConnect: f['validate-on-connect'] }),
      ...(f['publishable-connect'] ? { publishableConnect: f['publishable-connect'] as 'open' | 'token_required' } : {}),
    });
    this.table([created.project], projectColumns);
    this.out();
    this.table(created.keys, createdKeyColumns);
    this.warnUser(
      'The API keys above are shown only now. Store the secret keys (byo_sk_) in your secret manager; they cannot be retrieved later.',
    );
    return created;
  }
}
