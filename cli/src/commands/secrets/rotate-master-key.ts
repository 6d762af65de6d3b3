import { Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';

interface Failure {
  table: string;
  id: string;
  reason: string;
}

export default class SecretsRotateMasterKey extends BaseCommand<typeof SecretsRotateMasterKey> {
  static summary = 'Re-wrap every data key under the active master key';
  static description = `The middle step of a master-key rotation; online and safe to re-run:
  1. Put a new key first in BYO_MASTER_KEYS (keep the old ones after it) and restart every server instance.
  2. Run this command. It re-wraps data keys in batches (rows are claimed with FOR UPDATE SKIP LOCKED, so traffic and other runs are not blocked); the encrypted data itself is not rewritten. Interrupted, it leaves the rest on the old key: run it again to continue.
  3. When \`byo secrets status\` shows 0 rows on an old key, remove that key from BYO_MASTER_KEYS and restart.

A progress bar goes to stderr. Exit 8 if rows are left that could not be re-wrapped (their ids are listed). Needs the admin token.`;
  static examples = ['<%= config.bin %> secrets rotate-master-key', '<%= config.bin %> secrets rotate-master-key --batch-size 2000 --json'];
  static flags = {
    'batch-size': Flags.integer({
      description: 'Rows re-wrapped per request (each batch is one transaction)',
      min: 1,
      max: 5000,
      default: 500,
    }),
  };

  private stopRequested = false;

  async run() {
    const client = this.adminClient();
    const before = await client.secrets.status.query();
    const total = before.pending;
    const onKeys = before.keys.filter((k) => !k.active && k.total > 0).map((k) => `${k.id} (${k.total})`);
    this.info(
      total === 0
        ? `Nothing to do: every secret is on the active key "${before.activeKeyId}".`
        : `Re-wrapping ${total} secret(s) from ${onKeys.join(', ')} to the active key "${before.activeKeyId}".`,
    );

    const onSigint = () => {
      if (this.stopRequested) process.exit(EXIT.interrupted);
      this.stopRequested = true;
      this.info('\nStopping after the current batch (Ctrl-C again to quit now). Re-run the command to continue.');
    };
    process.on('SIGINT', onSigint);
    const progress = new Progress(total, process.stderr, !this.jsonEnabled());
    let rewrapped = 0;
    let remaining = total;
    let failed: Failure[] = [];
    let passes = 0;
    try {
      while (remaining > 0 && !this.stopRequested) {
        passes++;
        let passRewrapped = 0;
        const passFailed: Failure[] = [];
        let after: string | undefined;
        do {
          const r = await client.secrets.rotateBatch.mutate({ limit: this.flags['batch-size'], ...(after ? { after } : {}) });
          passRewrapped += r.rewrapped;
          passFailed.push(...r.failed);
          remaining = r.remaining;
          after = r.next ?? undefined;
          progress.update(rewrapped + passRewrapped, remaining);
        } while (after && !this.stopRequested);
        rewrapped += passRewrapped;
        failed = passFailed;
        // A pass that moved nothing cannot be helped by another one.
        if (passRewrapped === 0) break;
      }
    } finally {
      process.off('SIGINT', onSigint);
      progress.done();
    }

    const after = await client.secrets.status.query();
    const result = {
      activeKeyId: after.activeKeyId,
      rewrapped,
      remaining: after.pending,
      failed,
      passes,
      interrupted: this.stopRequested,
      status: after,
    };
    this.info(`Re-wrapped ${rewrapped} secret(s); ${after.pending} left on older keys.`);
    if (after.retirable.length) this.info(`Safe to remove from BYO_MASTER_KEYS now: ${after.retirable.join(', ')}.`);
    if (this.stopRequested)
      throw new CliError('interrupted', 'Interrupted. Run `byo secrets rotate-master-key` again to continue.', EXIT.interrupted, {
        result,
      });
    if (after.pending > 0) {
      const missing = after.keys.filter((k) => !k.inKeyring && k.total > 0).map((k) => k.id);
      const reasons = [
        failed.length ? `${failed.length} row(s) failed to decrypt: ${failed.map((f) => `${f.table}/${f.id}`).join(', ')}` : null,
        missing.length
          ? `rows are wrapped by master key(s) not in BYO_MASTER_KEYS: ${missing.join(', ')} (add them back, then re-run)`
          : null,
      ].filter(Boolean);
      throw new CliError(
        'rotation_incomplete',
        `${after.pending} secret(s) are still on older keys${reasons.length ? `: ${reasons.join('; ')}` : ' (rows being changed concurrently; re-run)'}. Do not remove their master keys yet.`,
        EXIT.failed,
        { result },
      );
    }
    return result;
  }
}

/** A progress bar on a TTY; otherwise a line per update (at most ~20 lines). */
class Progress {
  private lastPrinted = -1;
  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {}

  update(done: number, remaining: number): void {
    if (!this.enabled || this.total === 0) return;
    const shown = Math.min(this.total, Math.max(done, this.total - remaining));
    const pct = Math.floor((shown / this.total) * 100);
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      this.stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%  ${shown}/${this.total} re-wrapped`,
      );
    } else if (pct >= this.lastPrinted + 5 || remaining === 0) {
      this.lastPrinted = pct;
      this.stream.write(`re-wrapped ${shown}/${this.total} (${pct}%), ${remaining} remaining\n`);
    }
  }

  done(): void {
    if (this.enabled && this.stream.isTTY && this.total > 0) this.stream.write('\n');
  }
}
