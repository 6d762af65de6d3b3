import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The leak scan: finds any secret a test run used inside its captured logs and database
 * dumps. A secret is found when any aligned 12-character window of it (after its public
 * prefix) appears, so a substring of about 23 characters or more is caught, in raw, base64,
 * hex or URL-encoded form. Key hints (`sk-...abcd`) are too short to match.
 */

export const WINDOW = 12;

/** Values that are public by design (sandbox magic keys, documented examples): never secrets. */
const PUBLIC_VALUES = new Set(['sk-byo-test-valid', 'sk-byo-test-invalid']);
const PUBLIC_PREFIX =
  /^(?:byo_(?:sk|pk)_(?:live|test)_|byo_ct_|byo_admin_|admin_|whsec_|sk-(?:proj-|ant-(?:api\d\d-)?|or-v1-|svcacct-|admin-)?|AIza|gsk_|xai-|pplx-|fw_|hf_)/;

export interface Secret {
  kind: string;
  value: string;
}

export interface Hit {
  kind: string;
  /** The secret, masked: its first 6 characters and length. */
  secret: string;
  form: string;
  file: string;
  /** Text around the hit, with the matching window masked. */
  context: string;
}

function distinct(s: string): number {
  return new Set(s).size;
}

/** The forms of a secret worth searching for, each with the part that identifies it. */
function forms(value: string): [string, string][] {
  const body = value.replace(PUBLIC_PREFIX, '');
  const out: [string, string][] = [['raw', body]];
  out.push(['base64', Buffer.from(value).toString('base64').slice(4, -4)]);
  out.push(['hex', Buffer.from(value).toString('hex').slice(8)]);
  const enc = encodeURIComponent(body);
  if (enc !== body) out.push(['urlencoded', enc]);
  return out;
}

export class LeakIndex {
  private readonly windows = new Map<string, { secret: Secret; form: string }>();
  readonly secrets: Secret[] = [];

  constructor(private readonly publicValues: ReadonlySet<string> = new Set()) {}

  add(secret: Secret): void {
    if (PUBLIC_VALUES.has(secret.value) || this.publicValues.has(secret.value) || secret.value.length < WINDOW) return;
    this.secrets.push(secret);
    for (const [form, text] of forms(secret.value)) {
      for (let i = 0; i + WINDOW <= text.length; i += WINDOW) {
        const w = text.slice(i, i + WINDOW);
        // Low-entropy windows ('aaaaaaaaaaaa', '000000000000') would match innocent text.
        if (distinct(w) >= 7) this.windows.set(w, { secret, form });
      }
    }
  }

  get size(): number {
    return this.windows.size;
  }

  /** Every hit in `text` (at most one per secret and form per file). */
  scan(text: string, file: string): Hit[] {
    const hits: Hit[] = [];
    const reported = new Set<string>();
    for (let i = 0; i + WINDOW <= text.length; i++) {
      const found = this.windows.get(text.slice(i, i + WINDOW));
      if (!found) continue;
      const id = `${found.secret.value}|${found.form}`;
      if (reported.has(id)) continue;
      reported.add(id);
      const around = `${text.slice(Math.max(0, i - 60), i)}[…${found.form} window…]${text.slice(i + WINDOW, i + WINDOW + 60)}`;
      hits.push({
        kind: found.secret.kind,
        secret: `${found.secret.value.slice(0, 6)}…(${found.secret.value.length} chars)`,
        form: found.form,
        file,
        context: around.replace(/\s+/g, ' '),
      });
    }
    return hits;
  }
}

/** Reads the capture directory: the secrets, then every log and dump file scanned. */
export function scanDirectory(dir: string): { secrets: number; files: string[]; bytes: number; hits: Hit[] } {
  const names = readdirSync(dir);
  const publicValues = new Set<string>();
  for (const name of names.filter((n) => n.startsWith('public-'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) if (line.trim()) publicValues.add(JSON.parse(line) as string);
  }
  const index = new LeakIndex(publicValues);
  for (const name of names.filter((n) => n.startsWith('secrets-'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line.trim()) index.add(JSON.parse(line) as Secret);
    }
  }
  const files = names.filter((n) => n.startsWith('logs-') || n.startsWith('dump-'));
  let bytes = 0;
  const hits: Hit[] = [];
  for (const name of files) {
    const text = readFileSync(join(dir, name), 'utf8');
    bytes += text.length;
    hits.push(...index.scan(text, name));
  }
  return { secrets: index.secrets.length, files, bytes, hits };
}
