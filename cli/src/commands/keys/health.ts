import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { PROVIDERS, type ProviderName } from '../../lib/args.js';
import { shortTime, statusStyle } from '../../lib/output.js';
import type { Column } from '../../lib/output.js';
import type { Outputs } from '../../lib/views.js';

type KeyHealth = Outputs['keys']['health'];
type FailingKey = KeyHealth['failing'][number];

const failingColumns: Column<FailingKey>[] = [
  { header: 'provider', get: (k) => k.provider },
  { header: 'ref id', get: (k) => k.refId },
  { header: 'status', get: (k) => k.status, style: statusStyle },
  { header: 'key', get: (k) => k.keyHint },
  { header: 'outcome', get: (k) => k.lastValidation?.outcome ?? null, style: (v) => (v === 'invalid' ? 'red' : 'yellow') },
  { header: 'checked', get: (k) => shortTime(k.lastValidation?.at ?? null) },
  { header: 'reason', get: (k) => k.lastValidation?.message ?? null },
];

export default class KeysHealth extends BaseCommand<typeof KeysHealth> {
  static summary = "Sum up the stored keys' health: counts by status and by last check, and the failing keys with the reason";
  static description =
    "Scheduled checks (BYO_KEY_HEALTH_INTERVAL) keep each key's last check current. Counts cover the secret key's project and mode; failing keys are those whose last check was invalid or unreachable (not revoked), the most recent first. Needs a secret key (byo_sk_).";
  static examples = ['<%= config.bin %> keys health', '<%= config.bin %> keys health --provider anthropic --json'];
  static flags = {
    provider: Flags.string({ description: 'Only this provider', options: [...PROVIDERS] }),
    limit: Flags.integer({ description: 'Failing keys to list (1-200)', min: 1, max: 200, default: 50 }),
  };

  async run() {
    const f = this.flags;
    const h = await this.projectClient().keys.health.query({
      limit: f.limit,
      ...(f.provider ? { provider: f.provider as ProviderName } : {}),
    });
    const { active, disabled, revoked } = h.byStatus;
    const { valid, invalid, unreachable, unchecked } = h.byOutcome;
    this.fields([
      ['keys', `${active} active, ${disabled} disabled, ${revoked} revoked`],
      ['active keys', `${valid} valid, ${invalid} invalid, ${unreachable} unreachable, ${unchecked} not checked yet`],
    ]);
    this.out();
    this.table(h.failing, failingColumns, 'No failing keys.');
    return h;
  }
}
