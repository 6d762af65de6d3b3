/**
 * Compares what a snippet printed with the `output` block the docs show.
 *
 * - JSON (```` ```json output ````): the expected value is a pattern. Objects match when every
 *   key shown matches (the real output may have more keys). A string containing `...` is a
 *   wildcard for any run of characters (`"key_..."`); the string `"..."` alone matches any value.
 *   An array whose last element is `"..."` matches any array starting with the elements shown.
 *   Several JSON values (one per line, as a loop prints them) are matched in order.
 * - Text (any other language): line by line, `...` inside a line is a wildcard, and a line that
 *   is only `...` matches any number of lines. Trailing whitespace is ignored.
 */

export function matchOutput(lang: string, expected: string, actual: string): string | null {
  if (lang === 'json' || lang === 'jsonc') return matchJsonText(expected, actual);
  return matchText(expected, actual);
}

function parseJsonValues(text: string): unknown[] | null {
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    return [JSON.parse(trimmed)];
  } catch {
    /* several values: one per line, pretty-printed one after another, or back to back */
  }
  const values: unknown[] = [];
  let i = 0;
  while (i < trimmed.length) {
    while (i < trimmed.length && /\s/.test(trimmed[i] as string)) i++;
    if (i >= trimmed.length) break;
    const end = valueEnd(trimmed, i);
    if (end < 0) return null;
    try {
      values.push(JSON.parse(trimmed.slice(i, end)));
    } catch {
      return null;
    }
    i = end;
  }
  return values;
}

/** End (exclusive) of the JSON value starting at `start`: a balanced object/array, or a line. */
function valueEnd(text: string, start: number): number {
  const open = text[start];
  if (open !== '{' && open !== '[') {
    const nl = text.indexOf('\n', start);
    return nl < 0 ? text.length : nl;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function matchJsonText(expected: string, actual: string): string | null {
  const exp = parseJsonValues(expected);
  if (!exp) return 'the expected output block is not JSON';
  const act = parseJsonValues(actual);
  if (!act) return `the output is not JSON:\n${actual}`;
  if (exp.length !== act.length) return `expected ${exp.length} JSON value(s), got ${act.length}:\n${actual}`;
  for (let i = 0; i < exp.length; i++) {
    const problem = matchJson(exp[i], act[i], '$');
    if (problem) return `${problem}\n--- output:\n${actual}`;
  }
  return null;
}

export function wildcard(pattern: string): RegExp {
  const parts = pattern.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`);
}

export function matchJson(exp: unknown, act: unknown, path: string): string | null {
  if (exp === '...') return null;
  if (typeof exp === 'string') {
    if (typeof act !== 'string') return `${path}: expected a string like ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`;
    return wildcard(exp).test(act) ? null : `${path}: expected ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`;
  }
  if (Array.isArray(exp)) {
    if (!Array.isArray(act)) return `${path}: expected an array, got ${JSON.stringify(act)}`;
    const open = exp.length > 0 && exp[exp.length - 1] === '...';
    const items = open ? exp.slice(0, -1) : exp;
    if (open ? act.length < items.length : act.length !== items.length)
      return `${path}: expected ${open ? 'at least ' : ''}${items.length} item(s), got ${act.length}`;
    for (let i = 0; i < items.length; i++) {
      const p = matchJson(items[i], act[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (exp !== null && typeof exp === 'object') {
    if (act === null || typeof act !== 'object' || Array.isArray(act)) return `${path}: expected an object, got ${JSON.stringify(act)}`;
    for (const [k, v] of Object.entries(exp)) {
      if (!(k in act)) return `${path}.${k}: missing`;
      const p = matchJson(v, (act as Record<string, unknown>)[k], `${path}.${k}`);
      if (p) return p;
    }
    return null;
  }
  return Object.is(exp, act) ? null : `${path}: expected ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`;
}

export function matchText(expected: string, actual: string): string | null {
  const exp = expected
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => l.trimEnd());
  const act = actual
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => l.trimEnd());
  const ok = (i: number, j: number): boolean => {
    if (i === exp.length) return j === act.length;
    const e = exp[i] as string;
    if (e.trim() === '...') {
      for (let k = j; k <= act.length; k++) if (ok(i + 1, k)) return true;
      return false;
    }
    return j < act.length && wildcard(e).test(act[j] as string) && ok(i + 1, j + 1);
  };
  return ok(0, 0) ? null : `output does not match.\n--- expected:\n${expected.trimEnd()}\n--- got:\n${actual.trimEnd()}`;
}
