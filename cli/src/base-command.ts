import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { TRPCClientError } from '@trpc/client';
import { type Client, createClient } from './lib/client.js';
import { readEnv } from './lib/env.js';
import { CliError, fromClientError } from './lib/errors.js';
import { EXIT } from './lib/exit-codes.js';
import { type Column, painter, renderFields, renderTable } from './lib/output.js';
import { hint, PROFILE_NAME, type Profile, ProfileStore } from './lib/profiles.js';

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export const DEFAULT_URL = 'http://localhost:3000';

type Source = 'env' | 'profile' | 'default';
export interface Credential {
  value: string;
  source: Source;
}
export interface Session {
  profile: string;
  url: string;
  urlSource: Source;
  adminToken: Credential | null;
  secretKey: Credential | null;
}

/**
 * Every command extends this: it parses the shared flags, resolves the server URL and
 * credentials (environment over profile), holds the typed tRPC client, renders tables and
 * the `--json` envelope, and has the one `catch()` that turns any failure into a message
 * that says what to do next and a documented exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true;

  static baseFlags = {
    profile: Flags.string({
      description: 'Stored login to use (see `byo login`). Env: BYO_PROFILE.',
      default: 'default',
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: FlagsOf<T>;
  protected args!: ArgsOf<T>;
  protected readonly warnings: string[] = [];

  private clientContext: { url: string; credential: 'admin' | 'secret' } = { url: DEFAULT_URL, credential: 'admin' };
  protected readonly paintOut = painter(process.stdout);
  protected readonly paintErr = painter(process.stderr);

  public async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as FlagsOf<T>;
    this.args = args as ArgsOf<T>;
    const env = readEnv();
    if (env.profile && (flags as { profile?: string }).profile === 'default' && !this.argv.includes('--profile')) {
      (this.flags as { profile: string }).profile = env.profile;
    }
    if (!PROFILE_NAME.test(this.profileName)) {
      throw new CliError('invalid_usage', 'A profile name is 1-64 characters of A-Z a-z 0-9 _ . -', EXIT.usage);
    }
  }

  protected get profileName(): string {
    return (this.flags as { profile: string }).profile;
  }

  protected get store(): ProfileStore {
    return new ProfileStore(this.config.configDir);
  }

  /** URL and credentials: BYO_URL / BYO_ADMIN_TOKEN / BYO_SECRET_KEY override the profile. */
  protected session(): Session {
    const env = readEnv();
    const store = this.store;
    if (store.tooOpen()) this.warnUser(`${store.path} is readable by other users; it holds credentials. Run: chmod 600 ${store.path}`);
    const p: Profile | undefined = store.get(this.profileName);
    const cred = (envValue: string | undefined, stored: string | undefined): Credential | null =>
      envValue ? { value: envValue, source: 'env' } : stored ? { value: stored, source: 'profile' } : null;
    return {
      profile: this.profileName,
      url: (env.url ?? p?.url ?? DEFAULT_URL).replace(/\/+$/, ''),
      urlSource: env.url ? 'env' : p?.url ? 'profile' : 'default',
      adminToken: cred(env.adminToken, p?.adminToken),
      secretKey: cred(env.secretKey, p?.secretKey),
    };
  }

  protected clientFor(url: string, token: string, credential: 'admin' | 'secret'): Client {
    this.clientContext = { url, credential };
    return createClient({ url, token, userAgent: `byo-cli/${this.config.version} (${this.id ?? 'byo'})` });
  }

  /** A client authenticated with the admin token (operator commands). */
  protected adminClient(): Client {
    const s = this.session();
    if (!s.adminToken) {
      throw new CliError(
        'not_logged_in',
        s.secretKey
          ? `\`byo ${this.commandName}\` needs the admin token, and profile "${s.profile}" only has a secret key. Run \`byo login\` and paste the server's BYO_ADMIN_TOKEN, or set BYO_ADMIN_TOKEN.`
          : `Not logged in (profile "${s.profile}"). Run \`byo login\` and paste the server's admin token, or set BYO_URL and BYO_ADMIN_TOKEN.`,
        EXIT.auth,
      );
    }
    return this.clientFor(s.url, s.adminToken.value, 'admin');
  }

  /** A client authenticated with a project's secret key (keys, webhooks, usage). */
  protected projectClient(): Client {
    const s = this.session();
    if (!s.secretKey) {
      throw new CliError(
        'not_logged_in',
        s.adminToken
          ? `\`byo ${this.commandName}\` works inside one project and needs its secret key (byo_sk_...); profile "${s.profile}" only has the admin token. Run \`byo login\` and paste a secret key, or set BYO_SECRET_KEY (create one with \`byo api-keys create <projectId> --kind sk\`).`
          : `Not logged in (profile "${s.profile}"). Run \`byo login\` and paste a project secret key (byo_sk_...), or set BYO_URL and BYO_SECRET_KEY.`,
        EXIT.auth,
      );
    }
    return this.clientFor(s.url, s.secretKey.value, 'secret');
  }

  protected get commandName(): string {
    return (this.id ?? '').replaceAll(':', ' ');
  }

  // ---- output -------------------------------------------------------------------------

  /** Human output to stdout (silent under --json). */
  protected out(text = ''): void {
    this.log(text);
  }

  /** Progress and messages to stderr (silent under --json). */
  protected info(text: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${text}\n`);
  }

  protected warnUser(message: string): void {
    if (this.warnings.includes(message)) return;
    this.warnings.push(message);
    if (!this.jsonEnabled()) process.stderr.write(`${this.paintErr('yellow', 'Warning:')} ${message}\n`);
  }

  protected table<R>(rows: readonly R[], columns: Column<R>[], empty = 'Nothing to show.'): void {
    if (this.jsonEnabled()) return;
    if (rows.length === 0) this.info(empty);
    else this.out(renderTable(rows, columns, this.paintOut));
  }

  protected fields(fields: [string, string | number | boolean | null | undefined][]): void {
    this.out(renderFields(fields, this.paintOut));
  }

  protected hint(secret: string): string {
    return hint(secret);
  }

  protected toSuccessJson(result: unknown): unknown {
    return { status: 'success', result, warnings: this.warnings };
  }

  protected toErrorJson(err: unknown): unknown {
    const e = err as CliError;
    const body: Record<string, unknown> = { status: 'error', code: e.code, message: e.message, exitCode: e.exitCode };
    if (e.extra?.requestId) body.requestId = e.extra.requestId;
    if (e.extra?.issues) body.issues = e.extra.issues;
    if (e.extra?.result !== undefined) body.result = e.extra.result;
    if (this.warnings.length) body.warnings = this.warnings;
    return body;
  }

  protected logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  private toCliError(err: unknown): CliError {
    if (err instanceof CliError) return err;
    if (err instanceof TRPCClientError) return fromClientError(err, this.clientContext);
    if ((err as { code?: string })?.code === 'EINTERRUPTED') return new CliError('interrupted', 'Interrupted.', EXIT.interrupted);
    if (err instanceof Errors.CLIError) {
      const exit = err.oclif?.exit ?? EXIT.usage;
      const msg = err.message.replace(/\s*See more help with --help\s*$/, '');
      return new CliError(
        exit === EXIT.usage ? 'invalid_usage' : 'error',
        exit === EXIT.usage ? `${msg}\nSee \`byo ${this.commandName} --help\`.` : msg,
        exit as CliError['exitCode'],
      );
    }
    return new CliError('internal_error', `Unexpected error: ${(err as Error)?.message ?? String(err)}`, EXIT.error);
  }

  /** The one error handler: a message with the next step, the JSON envelope, the exit code. */
  protected async catch(err: Error & { exitCode?: number }): Promise<void> {
    if (err instanceof Errors.ExitError) {
      process.exitCode = err.oclif.exit;
      return;
    }
    const e = this.toCliError(err);
    process.exitCode = e.exitCode;
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e));
      return;
    }
    const lines = [`${this.paintErr('red', 'Error:')} ${e.message}`];
    const issues = e.extra.issues as { path: string; message: string }[] | undefined;
    if (Array.isArray(issues) && issues.length > 1) for (const i of issues) lines.push(`  - ${i.path ? `${i.path}: ` : ''}${i.message}`);
    if (e.extra.requestId) lines.push(this.paintErr('dim', `  request id: ${e.extra.requestId}`));
    process.stderr.write(`${lines.join('\n')}\n`);
  }
}

export { CliError, EXIT };
