/**
 * Finds the code blocks of a Markdown file that are meant to run.
 *
 * A fenced block runs when its info string has the word `test` after the language
 * (```` ```sh test ````), or when the line before it (blank lines aside) is an HTML comment
 * `<!-- test -->` (words after `test` are flags: `<!-- test background ready=listening -->`).
 * The next fenced block, when tagged `output` (```` ```json output ````), is what the test block
 * must print. See docs/writing-docs.md for the flags.
 */

export interface CodeBlock {
  /** Language from the info string, lower-cased (`sh`, `ts`, `json`...). */
  lang: string;
  /** Bare words (`test`, `background`, `output`, `server`, `browser`). */
  flags: Set<string>;
  /** `key=value` words (`ready=listening`, `exit=22`, `timeout=30000`). */
  options: Record<string, string>;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

export interface TestBlock extends CodeBlock {
  /** The `output` block that follows, if any. */
  expected?: CodeBlock;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*(.*)$/;
const MARKER = /^\s*<!--\s*test\b(.*?)-->\s*$/;

function parseWords(words: string[], block: Pick<CodeBlock, 'flags' | 'options'>): void {
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) block.options[w.slice(0, eq)] = w.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    else if (w) block.flags.add(w);
  }
}

/** Splits on whitespace but keeps `key="a b"` together. */
function words(s: string): string[] {
  return s.match(/[^\s"]+="[^"]*"|[^\s]+/g) ?? [];
}

export function parseBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  let marker: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const m = MARKER.exec(line);
    if (m) {
      marker = ['test', ...words(m[1] ?? '')];
      continue;
    }
    const f = FENCE.exec(line);
    if (!f) {
      if (line.trim() !== '') marker = null;
      continue;
    }
    const indent = f[1]?.length ?? 0;
    const fence = f[2] ?? '```';
    const info = words(f[3] ?? '');
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] ?? '';
      const close = /^( {0,3})(`{3,}|~{3,})\s*$/.exec(l);
      if (close && close[2]?.[0] === fence[0] && (close[2]?.length ?? 0) >= fence.length) break;
      body.push(indent ? l.replace(new RegExp(`^ {0,${indent}}`), '') : l);
    }
    const block: CodeBlock = { lang: (info[0] ?? '').toLowerCase(), flags: new Set(), options: {}, code: body.join('\n'), line: i + 1 };
    parseWords(info.slice(1), block);
    if (marker) parseWords(marker, block);
    marker = null;
    blocks.push(block);
    i = j;
  }
  return blocks;
}

/** The blocks to run, each with the `output` block right after it (if any). */
export function testBlocks(markdown: string): TestBlock[] {
  const blocks = parseBlocks(markdown);
  const out: TestBlock[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i] as CodeBlock;
    if (!b.flags.has('test')) continue;
    const next = blocks[i + 1];
    const t: TestBlock = { ...b };
    if (next?.flags.has('output')) {
      t.expected = next;
      i++;
    }
    out.push(t);
  }
  return out;
}
