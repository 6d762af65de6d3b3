import { Flags } from '@oclif/core';
import { BaseCommand, CliError, DEFAULT_URL, EXIT } from '../base-command.js';
import { readEnv } from '../lib/env.js';
import { promptHidden, promptLine, readSecretFromStdin } from '../lib/secret-input.js';

export default class Login extends BaseCommand<typeof Login> {
  static summary = 'Store a server URL and credential in a profile';
  static description =
    `The credential is the server's admin token (BYO_ADMIN_TOKEN; for projects, API keys, secrets and audit) or a project's secret key (byo_sk_...; for keys, webhooks and usage). It is read from a hidden prompt, or from stdin when stdin is not a terminal, never from an argument (arguments end up in shell history). A profile can hold one of each: logging in with the other kind keeps the first.

Profiles live in profiles.json (mode 0600) under the config directory: $BYO_CONFIG_DIR, else $XDG_CONFIG_HOME/byo, else ~/.config/byo. BYO_URL, BYO_ADMIN_TOKEN and BYO_SECRET_KEY override the stored values.`;

  static examples = [
    '<%= config.bin %> login --url https://byo.example.com',
    'printf %s "$BYO_ADMIN_TOKEN" | <%= config.bin %> login --url http://localhost:3000',
    'cat sk.txt | <%= config.bin %> login --profile acme-test',
  ];

  // Not strict, so that `byo login <something>` reaches this command (and is refused below)
  // instead of oclif's "command login:<something> not found", which would echo it.
  static strict = false;

  /** Anything but these flags may be a pasted secret: refuse it without echoing it back. */
  public async init(): Promise<void> {
    const withValue = new Set(['--url', '--profile']);
    const bare = new Set(['--verify', '--no-verify', '--json', '--help', '-h']);
    for (let i = 0; i < this.argv.length; i++) {
      const a = this.argv[i] as string;
      if (withValue.has(a)) i++;
      else if (!bare.has(a) && !/^--(url|profile)=/.test(a)) {
        throw new CliError(
          'secret_in_argv',
          '`byo login` does not take the credential as an argument (it would be kept in your shell history and visible in `ps`). Type it at the prompt, or pipe it on stdin: `printf %s "$TOKEN" | byo login`. Flags: --url, --profile, --[no-]verify, --json.',
          EXIT.usage,
        );
      }
    }
    await super.init();
  }

  static flags = {
    url: Flags.string({ description: `Server URL (default: BYO_URL, the profile's URL, or ${DEFAULT_URL})` }),
    verify: Flags.boolean({ description: 'Check the credential with the server before saving', default: true, allowNo: true }),
  };

  async run() {
    const existing = this.store.get(this.profileName);
    const interactive = Boolean(process.stdin.isTTY);
    let url = this.flags.url ?? readEnv().url;
    if (!url && interactive) {
      const answer = await promptLine(`Server URL [${existing?.url ?? DEFAULT_URL}]: `);
      url = answer || undefined;
    }
    url = (url ?? existing?.url ?? DEFAULT_URL).replace(/\/+$/, '');
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new CliError(
        'invalid_url',
        `"${url}" is not an http(s) URL. Pass the server's base URL, e.g. --url http://localhost:3000.`,
        EXIT.usage,
      );
    }

    const secret = interactive ? await promptHidden('Admin token or secret key (byo_sk_...), input hidden: ') : await readSecretFromStdin();
    if (!secret) {
      throw new CliError(
        'no_credential',
        interactive
          ? 'Nothing entered. Run `byo login` again and paste the credential.'
          : 'stdin was empty. Pipe the credential: `printf %s "$TOKEN" | byo login`.',
        EXIT.usage,
      );
    }
    if (/^byo_pk_/.test(secret)) {
      throw new CliError(
        'publishable_key',
        'That is a publishable key (byo_pk_...), which can only connect keys from a browser. Log in with the secret key (byo_sk_...) or the admin token.',
        EXIT.usage,
      );
    }
    const kind = /^byo_sk_/.test(secret) ? ('secret' as const) : ('admin' as const);
    const mode = kind === 'secret' ? (/^byo_sk_(live|test)_/.exec(secret)?.[1] ?? null) : null;

    if (this.flags.verify) {
      if (kind === 'admin') await this.clientFor(url, secret, 'admin').projects.list.query();
      else await this.clientFor(url, secret, 'secret').keys.list.query({ limit: 1 });
    }

    const keep = existing && existing.url === url ? existing : { url };
    this.store.set(this.profileName, {
      ...keep,
      url,
      ...(kind === 'admin' ? { adminToken: secret } : { secretKey: secret }),
    });
    const env = readEnv();
    if ((kind === 'admin' && env.adminToken) || (kind === 'secret' && env.secretKey)) {
      this.warnUser(
        `${kind === 'admin' ? 'BYO_ADMIN_TOKEN' : 'BYO_SECRET_KEY'} is set in the environment and overrides the stored credential.`,
      );
    }
    this.info(
      `Logged in to ${url} with ${kind === 'admin' ? 'the admin token' : `a ${mode} secret key`} (${this.hint(secret)})${this.flags.verify ? '' : ', not verified'}. Profile "${this.profileName}" saved in ${this.store.path}.`,
    );
    return {
      profile: this.profileName,
      url,
      credential: kind,
      mode,
      hint: this.hint(secret),
      verified: this.flags.verify,
      path: this.store.path,
    };
  }
}
