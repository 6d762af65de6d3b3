import { TRPCClientError } from '@trpc/client';
import { BaseCommand, CliError, EXIT } from '../base-command.js';

interface Check {
  source: 'env' | 'profile' | 'default';
  hint: string;
  valid: boolean;
}

export default class Whoami extends BaseCommand<typeof Whoami> {
  static summary = 'Show the server and credentials in use, and check them';
  static description = 'Exits 3 when no credential is configured or the server rejects one.';
  static examples = ['<%= config.bin %> whoami', '<%= config.bin %> whoami --json'];

  async run() {
    const s = this.session();
    if (!s.adminToken && !s.secretKey) {
      throw new CliError(
        'not_logged_in',
        `Not logged in (profile "${s.profile}"). Run \`byo login\`, or set BYO_URL with BYO_ADMIN_TOKEN or BYO_SECRET_KEY.`,
        EXIT.auth,
      );
    }
    const rejected = (err: unknown) =>
      err instanceof TRPCClientError && (err.data as { httpStatus?: number } | undefined)?.httpStatus === 401;
    let admin: (Check & { projects: number | null }) | null = null;
    if (s.adminToken) {
      admin = { source: s.adminToken.source, hint: this.hint(s.adminToken.value), valid: true, projects: null };
      try {
        admin.projects = (await this.clientFor(s.url, s.adminToken.value, 'admin').projects.list.query()).data.length;
      } catch (err) {
        if (!rejected(err)) throw err;
        admin.valid = false;
      }
    }
    let secretKey: (Check & { mode: string | null }) | null = null;
    if (s.secretKey) {
      const mode = /^byo_sk_(live|test)_/.exec(s.secretKey.value)?.[1] ?? null;
      secretKey = { source: s.secretKey.source, hint: this.hint(s.secretKey.value), valid: true, mode };
      try {
        await this.clientFor(s.url, s.secretKey.value, 'secret').keys.list.query({ limit: 1 });
      } catch (err) {
        if (!rejected(err)) throw err;
        secretKey.valid = false;
      }
    }
    const result = { profile: s.profile, url: s.url, urlSource: s.urlSource, admin, secretKey };
    const state = (c: Check | null) =>
      c ? `${c.hint} (from ${c.source}) ${c.valid ? this.paintOut('green', 'valid') : this.paintOut('red', 'rejected')}` : 'not set';
    this.fields([
      ['profile', s.profile],
      ['server', `${s.url} (from ${s.urlSource})`],
      ['admin token', state(admin) + (admin?.valid ? `, ${admin.projects} project(s)` : '')],
      ['secret key', state(secretKey) + (secretKey?.valid ? `, ${secretKey.mode} mode` : '')],
    ]);
    if ((admin && !admin.valid) || (secretKey && !secretKey.valid)) {
      throw new CliError(
        'credential_rejected',
        'The server rejected a configured credential. Run `byo login` again, or fix BYO_ADMIN_TOKEN / BYO_SECRET_KEY.',
        EXIT.auth,
        { result },
      );
    }
    return result;
  }
}
