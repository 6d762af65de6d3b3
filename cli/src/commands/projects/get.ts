import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { shortTime } from '../../lib/output.js';

export default class ProjectsGet extends BaseCommand<typeof ProjectsGet> {
  static summary = "Show a project's settings";
  static examples = ['<%= config.bin %> projects get proj_4q7TfXr2mY9wKc1Bz8'];
  static args = { id: Args.string({ description: 'Project id (proj_...)', required: true }) };

  async run() {
    const p = await this.adminClient().projects.get.query({ id: this.args.id });
    this.fields([
      ['id', p.id],
      ['name', p.name],
      ['allowed origins', p.allowedOrigins.join(', ')],
      ['allowed base URL hosts', p.allowedBaseUrlHosts.join(', ')],
      ['validate on connect', p.validateOnConnect ? 'yes' : 'no'],
      ['publishable connect', p.publishableConnect],
      ['created', shortTime(p.createdAt)],
      ['updated', shortTime(p.updatedAt)],
    ]);
    return p;
  }
}
