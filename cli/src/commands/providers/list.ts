import { BaseCommand } from '../../base-command.js';

export default class ProvidersList extends BaseCommand<typeof ProvidersList> {
  static summary = 'List the providers this server speaks, with the credential fields each takes';
  static description =
    'The catalog a connect form renders from (GET /v1/providers): each provider id, its name, where its calls go, and the fields a connect takes (providerKey, providerConfig.<name>). Works with a publishable or a secret key.';
  static examples = ['<%= config.bin %> providers list', '<%= config.bin %> providers list --json'];

  async run() {
    const { data } = await this.projectClient().providers.list.query();
    this.table(
      data,
      [
        { header: 'id', get: (p) => p.id },
        { header: 'name', get: (p) => p.name },
        { header: 'proxy', get: (p) => p.proxyPath },
        { header: 'upstream', get: (p) => p.baseUrl },
        { header: 'credentials', get: (p) => p.credentials.map((c) => `${c.field}${c.required ? '' : '?'}`).join(', ') },
      ],
      'No providers.',
    );
    return { data };
  }
}
