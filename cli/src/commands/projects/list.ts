import { BaseCommand } from '../../base-command.js';
import { projectColumns } from '../../lib/views.js';

export default class ProjectsList extends BaseCommand<typeof ProjectsList> {
  static summary = 'List projects';
  static description = 'Needs the admin token.';
  static examples = ['<%= config.bin %> projects list', '<%= config.bin %> projects list --json'];

  async run() {
    const { data } = await this.adminClient().projects.list.query();
    this.table(data, projectColumns, 'No projects yet. Create one with `byo projects create <name>`.');
    return data;
  }
}
