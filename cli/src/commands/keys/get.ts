import { BaseCommand } from '../../base-command.js';
import { keyRefArgs, type ProviderName } from '../../lib/args.js';
import { limitLine } from '../../lib/limit-flag.js';
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
    [
      'settings',
      k.settings
        ? Object.entries(k.settings)
            .map(([n, v]) => `${n}=${v}`)
            .join(', ')
        : null,
    ],
    ['last check', k.lastValidation ? lastCheck(k.lastValidation) : null],
    ['models', k.models ? modelList(k.models) : null],
    ['models checked', k.modelsCheckedAt ? shortTime(k.modelsCheckedAt) : null],
    ["owner's cap", k.limits?.length ? k.limits.map(limitLine).join('; ') : null],
    ['created', shortTime(k.createdAt)],
    ['updated', shortTime(k.updatedAt)],
  ];
}

/** `invalid at 2026-12-08 03:12 (The provider rejected the key (HTTP 401).)` */
export function lastCheck(v: NonNullable<ProviderKey['lastValidation']>): string {
  return `${v.outcome} at ${shortTime(v.at)}${v.message ? ` (${v.message})` : ''}`;
}

/** How many, and the first few: the whole list is in --json. */
function modelList(models: string[]): string {
  const shown = models.slice(0, 6).join(', ');
  return `${models.length}${models.length ? `: ${shown}${models.length > 6 ? ', ...' : ''}` : ''}`;
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
