import { readEnv } from './env.js';

/** Colours only on a TTY (and never with NO_COLOR); FORCE_COLOR turns them on. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  const env = readEnv();
  if (env.noColor) return false;
  if (env.forceColor) return true;
  return Boolean(stream.isTTY);
}

const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof codes;
export type Paint = (style: Style, text: string) => string;

export function painter(stream: NodeJS.WriteStream): Paint {
  const on = useColor(stream);
  return (style, text) => (on ? `\u001b[${codes[style][0]}m${text}\u001b[${codes[style][1]}m` : text);
}

const ANSI = /\u001b\[[0-9;]*m/g;
const width = (s: string) => [...s.replace(ANSI, '')].length;

export interface Column<T> {
  header: string;
  get: (row: T) => string | number | boolean | null | undefined;
  style?: (value: string, row: T) => Style | undefined;
}

export function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v);
}

/** A plain aligned table: a bold header row, two spaces between columns, no borders. */
export function renderTable<T>(rows: readonly T[], columns: Column<T>[], paint: Paint): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.get(r))));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((row) => width(row[i] ?? ''))));
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - width(s)));
  const line = (parts: string[]) => parts.join('  ').trimEnd();
  const out = [line(columns.map((c, i) => paint('bold', pad(c.header.toUpperCase(), widths[i] ?? 0))))];
  cells.forEach((row, ri) => {
    out.push(
      line(
        row.map((v, i) => {
          const style = columns[i]?.style?.(v, rows[ri] as T);
          const padded = pad(v, widths[i] ?? 0);
          return style ? paint(style, padded) : padded;
        }),
      ),
    );
  });
  return out.join('\n');
}

/** `key: value` lines, keys aligned. */
export function renderFields(fields: [string, string | number | boolean | null | undefined][], paint: Paint): string {
  const w = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${paint('dim', `${k}:`.padEnd(w + 1))} ${cell(v)}`).join('\n');
}

export const statusStyle = (v: string): Style | undefined =>
  ({
    active: 'green',
    succeeded: 'green',
    valid: 'green',
    true: 'green',
    revoked: 'red',
    failed: 'red',
    invalid: 'red',
    disabled: 'yellow',
    pending: 'yellow',
    unknown: 'yellow',
  })[v] as Style | undefined;

/** Renders a date as `YYYY-MM-DD HH:MM:SS` UTC, short enough for a table. */
export function shortTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
