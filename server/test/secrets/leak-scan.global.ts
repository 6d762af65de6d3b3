import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanDirectory } from '../helpers/leak-scan.js';

/**
 * Vitest global setup for the whole server suite: the leak scan.
 * Before the run it creates a capture directory (`BYO_LEAK_DIR`, inherited by the test
 * workers; `test/helpers/server.ts` writes logs, secrets and PostgreSQL dumps there). After
 * the run it searches every captured log line and every dump for every secret: any hit fails
 * the run (exit code 1) with a report. `BYO_LEAK_SCAN=0` turns it off; `BYO_LEAK_KEEP=1`
 * keeps the directory.
 */
export default function setup(): (() => void) | undefined {
  if (process.env.BYO_LEAK_SCAN === '0') return undefined;
  const given = process.env.BYO_LEAK_DIR;
  const dir = given ?? mkdtempSync(join(tmpdir(), 'byo-leak-'));
  process.env.BYO_LEAK_DIR = dir;
  return () => {
    const started = performance.now();
    const result = scanDirectory(dir);
    const dumps = result.files.filter((f) => f.startsWith('dump-')).length;
    const errors = readdirSync(dir).filter((f) => f.endsWith('.error'));
    const summary = `leak scan: ${result.secrets} secrets searched in ${result.files.length - dumps} log files and ${dumps} database dumps (${(result.bytes / 1e6).toFixed(1)} MB) in ${Math.round(performance.now() - started)} ms`;
    if (result.hits.length === 0 && errors.length === 0) {
      console.log(`${summary}: no leak`);
      if (process.env.BYO_LEAK_KEEP !== '1' && !given) rmSync(dir, { recursive: true, force: true });
      return;
    }
    const report = [
      `${summary}: ${result.hits.length} LEAK(S)${errors.length ? `, ${errors.length} dump error(s)` : ''}`,
      ...result.hits.slice(0, 50).map((h) => `  ${h.kind} ${h.secret} as ${h.form} in ${h.file}: ${h.context}`),
      ...errors.map((e) => `  could not dump: ${e}`),
      `  captured files kept in ${dir}`,
    ].join('\n');
    writeFileSync(join(dir, 'report.txt'), report);
    console.error(report);
    process.exitCode = 1;
  };
}
