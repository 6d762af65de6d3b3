import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { apiKeyColumns } from '../../lib/views.js';

export default class ApiKeysList extends BaseCommand<typeof ApiKeysList> {
  static summary = "List a project's API keys (hints only)";
  static description = 'Status is active, expiring (rolled; works until its expiry), expired or revoked. Needs the admin token.';
  static examples = ['<%= config.bin %> api-keys list proj_4q7TfXr2mY9wKc1Bz8'];
  static args = { projectId: Args.string({ description: 'Project id (proj_...)', required: true }) };

  async run() {
    const { data } = await this.adminClient().apiKeys.list.query({ projectId: this.args.projectId });
    this.table(data, apiKeyColumns, 'This project has no API keys.');
    return data;
  }
}
