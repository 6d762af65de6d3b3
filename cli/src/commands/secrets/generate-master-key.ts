import { randomBytes } from 'node:crypto';
import { Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';

export default class SecretsGenerateMasterKey extends BaseCommand<typeof SecretsGenerateMasterKey> {
  static summary = 'Print a new master key entry for BYO_MASTER_KEYS';
  static description =
    'Prints `id:base64` (32 random bytes) to stdout, generated locally; nothing is sent anywhere. Put it FIRST in BYO_MASTER_KEYS to make it the active key, e.g. BYO_MASTER_KEYS="<new>,<old>", restart, then run `byo secrets rotate-master-key`.';
  static examples = ['<%= config.bin %> secrets generate-master-key --id mk2026'];
  static flags = {
    id: Flags.string({ description: 'Key id (1-64 of A-Z a-z 0-9 _ . -); default mk<date>' }),
  };

  async run() {
    const id = this.flags.id ?? `mk${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
      throw new CliError('invalid_usage', '--id must be 1-64 characters of A-Z a-z 0-9 _ . -', EXIT.usage);
    const entry = `${id}:${randomBytes(32).toString('base64')}`;
    this.out(entry);
    this.warnUser('This is a secret: store it in your secret manager, not in a file in the repository.');
    return { id, entry };
  }
}
