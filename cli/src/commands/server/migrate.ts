import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { runServer } from '../../lib/server-process.js';
import { serverNotFound } from './start.js';

export default class ServerMigrate extends BaseCommand<typeof ServerMigrate> {
  static summary = 'Apply database migrations and exit';
  static description =
    'Runs the migrations against DATABASE_URL (and BYO_DATABASE_SCHEMA), or the embedded database under --data-dir. Safe to run repeatedly; `server start` also migrates on boot.';
  static examples = ['DATABASE_URL=postgres://byo@db/byo <%= config.bin %> server migrate'];
  static enableJsonFlag = false;

  static flags = {
    'data-dir': Flags.string({ description: 'Embedded database directory (env BYO_DATA_DIR, default ./.byo)' }),
  };

  async run() {
    const code = await runServer('migrate', { BYO_DATA_DIR: this.flags['data-dir'] });
    if (code === -1) throw serverNotFound();
    process.exitCode = code;
    return { exitCode: code };
  }
}
