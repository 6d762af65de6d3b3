import { BaseCommand } from '../../base-command.js';

export default class SecretsStatus extends BaseCommand<typeof SecretsStatus> {
  static summary = 'Count stored secrets per master key id';
  static description =
    `Every provider key, webhook signing secret and stored Idempotency-Key record (its request-hash key, secrets in its response) has a data key wrapped by one master key (BYO_MASTER_KEYS). A key id may leave BYO_MASTER_KEYS only when its count is 0: run \`byo secrets rotate-master-key\` first. Rows on a key id the server does not hold ("in keyring: no") cannot be decrypted: put that key back. Needs the admin token.`;
  static examples = ['<%= config.bin %> secrets status', '<%= config.bin %> secrets status --json'];

  async run() {
    const s = await this.adminClient().secrets.status.query();
    this.table(s.keys, [
      { header: 'master key', get: (k) => k.id },
      { header: 'active', get: (k) => (k.active ? 'yes' : 'no'), style: (v) => (v === 'yes' ? 'green' : undefined) },
      { header: 'in keyring', get: (k) => (k.inKeyring ? 'yes' : 'no'), style: (v) => (v === 'no' ? 'red' : undefined) },
      { header: 'provider keys', get: (k) => k.providerKeys },
      { header: 'webhook secrets', get: (k) => k.webhookSecrets },
      { header: 'idempotency records', get: (k) => k.idempotencyResponses },
      { header: 'total', get: (k) => k.total },
    ]);
    const missing = s.keys.filter((k) => !k.inKeyring && k.total > 0);
    if (missing.length)
      this.warnUser(
        `${missing.map((k) => `${k.id} (${k.total})`).join(', ')}: rows wrapped by a master key that is not in BYO_MASTER_KEYS. They cannot be decrypted until that key is added back.`,
      );
    if (s.pending > 0)
      this.info(`${s.pending} secret(s) are not yet on the active key "${s.activeKeyId}". Run \`byo secrets rotate-master-key\`.`);
    else this.info(`Every secret is on the active key "${s.activeKeyId}".`);
    if (s.retirable.length) this.info(`Safe to remove from BYO_MASTER_KEYS: ${s.retirable.join(', ')}.`);
    return s;
  }
}
