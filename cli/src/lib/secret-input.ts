/**
 * Secrets come from stdin or a hidden prompt, never from argv: arguments end up in
 * shell history and in `ps`.
 */

export async function readStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The first non-empty line of stdin, trimmed. */
export async function readSecretFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const text = await readStdin(stdin);
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

/** Reads a line from the terminal without echoing it. The prompt goes to stderr. */
export function promptHidden(
  prompt: string,
  stdin: NodeJS.ReadStream = process.stdin,
  out: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    out.write(prompt);
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.removeListener('data', onData);
      out.write('\n');
      if (err) reject(err);
      else resolve(value.trim());
    };
    const onData = (data: string) => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(Object.assign(new Error('interrupted'), { code: 'EINTERRUPTED' }));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Reads a visible line from the terminal (for non-secret answers such as a URL). */
export function promptLine(
  prompt: string,
  stdin: NodeJS.ReadStream = process.stdin,
  out: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve) => {
    out.write(prompt);
    stdin.resume();
    stdin.setEncoding('utf8');
    let buf = '';
    const onData = (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        stdin.pause();
        stdin.removeListener('data', onData);
        resolve(buf.slice(0, nl).trim());
      }
    };
    stdin.on('data', onData);
  });
}
