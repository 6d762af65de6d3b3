import { BaseCommand } from '../base-command.js';
import { readEnv } from '../lib/env.js';

export default class Logout extends BaseCommand<typeof Logout> {
  static summary = 'Forget a stored profile';
  static description = 'Deletes the profile (URL and credentials) from profiles.json. Environment variables are not affected.';
  static examples = ['<%= config.bin %> logout', '<%= config.bin %> logout --profile acme-test'];

  async run() {
    const removed = this.store.remove(this.profileName);
    this.info(removed ? `Removed profile "${this.profileName}".` : `No profile "${this.profileName}"; nothing to do.`);
    const env = readEnv();
    const still = [env.adminToken && 'BYO_ADMIN_TOKEN', env.secretKey && 'BYO_SECRET_KEY'].filter(Boolean);
    if (still.length)
      this.warnUser(`${still.join(' and ')} ${still.length > 1 ? 'are' : 'is'} still set in the environment and will be used.`);
    return { profile: this.profileName, removed };
  }
}
