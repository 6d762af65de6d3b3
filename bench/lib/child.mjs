// Child processes for the benchmark scripts: started, waited for until they print what says they
// are ready, and killed when the script exits however it exits.
import { spawn } from 'node:child_process';

const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/**
 * Spawns `cmd args` with `env` added, and resolves with `{ child, ...ready(output) }` once
 * `ready(output so far)` returns something; rejects if the process exits first.
 */
export function startChild(cmd, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const onData = (d) => {
      out += d.toString();
      const r = ready(out);
      if (r) {
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({ child, ...r });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`)));
  });
}

/** `ready` for a process that prints `{"port":N}` (the mock upstream, the bare proxy): `{ port }`. */
export function printedPort(out) {
  const m = /\{"port":(\d+)\}/.exec(out);
  return m ? { port: Number(m[1]) } : null;
}

/** `ready` for a BYO server, which prints `listening on URL`: `{ url }`. */
export function printedUrl(out) {
  const m = /listening on (http:\/\/[^\s]+)/.exec(out);
  return m ? { url: m[1] } : null;
}
