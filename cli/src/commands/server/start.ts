import { Flags } from '@oclif/core';
import { BaseCommand, CliError, EXIT } from '../../base-command.js';
import { runServer } from '../../lib/server-process.js';

export const serverNotFound = () =>
  new CliError(
    'server_not_installed',
    'byo-server is not installed next to the CLI (or not built) and is not on PATH. Install it (`npm i -g byo-server`), or in the repository run `pnpm --filter byo-server build`.',
    EXIT.error,
  );

export default class ServerStart extends BaseCommand<typeof ServerStart> {
  static summary = 'Run the BYO server in the foreground';
  static description =
    `Starts byo-server with the current environment (DATABASE_URL, BYO_MASTER_KEYS, BYO_ADMIN_TOKEN, ...; see docs/self-hosting.md). Without DATABASE_URL it uses the embedded database under --data-dir and, on first start, creates a development project and prints its test keys. Ctrl-C stops it gracefully. The exit code is the server's.`;
  static examples = ['<%= config.bin %> server start', '<%= config.bin %> server start --port 8080 --data-dir /var/lib/byo'];
  static enableJsonFlag = false;

  static flags = {
    port: Flags.integer({ description: 'Port to listen on (env PORT, default 3000)', min: 0, max: 65535 }),
    host: Flags.string({ description: 'Interface to bind (env HOST, default 127.0.0.1)' }),
    'data-dir': Flags.string({ description: 'Embedded database directory (env BYO_DATA_DIR, default ./.byo)' }),
  };

  async run() {
    const code = await runServer('start', {
      PORT: this.flags.port === undefined ? undefined : String(this.flags.port),
      HOST: this.flags.host,
      BYO_DATA_DIR: this.flags['data-dir'],
    });
    if (code === -1) throw serverNotFound();
    process.exitCode = code;
    return { exitCode: code };
  }
}
