// Writes oclif.manifest.json (command metadata) so `byo` loads only the command it runs.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const path = `${root}oclif.manifest.json`;
rmSync(path, { force: true });
const config = await Config.load({ root });
const plugin = config.getPluginsList().find((p) => p.root.replace(/\/$/, '') === root.replace(/\/$/, ''));
if (!plugin) throw new Error('byo-cli plugin not found');
writeFileSync(path, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`wrote ${path} (${Object.keys(plugin.manifest.commands).length} commands)`);
