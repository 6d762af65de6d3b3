import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { createdKeyColumns } from '../../lib/views.js';

export default class ApiKeysCreate extends BaseCommand<typeof ApiKeysCreate> {
  static summary = 'Create an API key (printed once)';
  static description = 'The key goes to stdout once; only its hash is stored. Needs the admin token.';
  static examples = [
    '<%= config.bin %> api-keys create proj_123 --kind sk --mode live',
    '<%= config.bin %> api-keys create proj_123 --kind pk --mode test --json',
  ];
  static args = { projectId: Args.string({ description: 'Project id (proj_...)', required: true }) };
  static flags = {
    kind: Flags.string({
      description: 'pk: publishable (browser, connect only); sk: secret (backend)',
      options: ['pk', 'sk'],
      required: true,
    }),
    mode: Flags.string({
      description: 'test keys see test data only; live keys see live data only',
      options: ['test', 'live'],
      required: true,
    }),
  };

  async run() {
    const key = await this.adminClient().apiKeys.create.mutate({
      projectId: this.args.projectId,
      kind: this.flags.kind as 'pk' | 'sk',
      mode: this.flags.mode as 'test' | 'live',
    });
    this.table([key], createdKeyColumns);
    this.warnUser('The key above is shown only now; store it in your secret manager.');
    return key;
  }
}
