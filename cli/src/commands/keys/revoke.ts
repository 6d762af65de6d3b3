import { BaseCommand } from '../../base-command.js';
import { keyRefArgs, type ProviderName } from '../../lib/args.js';
import { keyFields } from './get.js';

export default class KeysRevoke extends BaseCommand<typeof KeysRevoke> {
  static summary = "Destroy a customer's stored key (metadata is kept)";
  static description =
    'The key material is deleted at once and the next proxied call for this refId fails; key.revoked is sent once. Idempotent. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> keys revoke openai customer_123'];
  static args = keyRefArgs;

  async run() {
    const k = await this.projectClient().keys.revoke.mutate({ provider: this.args.provider as ProviderName, refId: this.args.refId });
    this.fields(keyFields(k));
    this.info(`Revoked the ${k.provider} key of ${k.refId}.`);
    return k;
  }
}
