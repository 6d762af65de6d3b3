import { BaseCommand } from '../../base-command.js';
import { keyRefArgs, type ProviderName } from '../../lib/args.js';
import { shortTime } from '../../lib/output.js';
import type { ProviderKey } from '../../lib/views.js';

export function keyFields(k: ProviderKey): [string, string | null][] {
  return [
    ['id', k.id],
    ['provider', k.provider],
    ['ref id', k.refId],
    ['status', k.status + (k.statusReason && k.statusReason !== k.status ? ` (${k.statusReason})` : '')],
    ['key', k.keyHint],
    ['base url', k.baseUrl],
    ['last check', k.lastValidatedAt ? `${k.lastValidationResult} at ${shortTime(k.lastValidatedAt)}` : null],
    ['created', shortTime(k.createdAt)],
    ['updated', shortTime(k.updatedAt)],
  ];
}

export default class KeysGet extends BaseCommand<typeof KeysGet> {
  static summary = "Show a stored key's metadata";
  static description = 'The key itself is never returned, only its hint. Needs a secret key (byo_sk_).';
  static examples = ['<%= config.bin %> keys get openai customer_123'];
  static args = keyRefArgs;

  async run() {
    const k = await this.projectClient().keys.get.query({ provider: this.args.provider as ProviderName, refId: this.args.refId });
    this.fields(keyFields(k));
    return k;
  }
}
