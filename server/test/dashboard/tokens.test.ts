import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The dashboard's colours are the badge's design tokens ("light and dark themes
 * following the badge's tokens"): every `--byo-color-*` the badge and the connect form declare
 * has the same fallback value, per theme, in the dashboard's stylesheet.
 */
const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** `var(--byo-color-x, #value)` pairs of one CSS block, by property. */
function tokens(css: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of css.matchAll(/var\((--byo-color-[a-z-]+),\s*(#[0-9a-fA-F]{3,8})\)/g))
    if (!out.has(m[1] as string)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** Splits a stylesheet into its light part and its dark part (the first dark selector onwards). */
function themes(css: string, darkSelector: string): { light: Map<string, string>; dark: Map<string, string> } {
  const at = css.indexOf(darkSelector);
  expect(at, darkSelector).toBeGreaterThan(0);
  const end = css.indexOf('}', at);
  return { light: tokens(css.slice(0, at)), dark: tokens(css.slice(at, end)) };
}

describe('dashboard design tokens', () => {
  it('match the badge and the connect form in both themes', () => {
    const dashboard = themes(read('../../dashboard/src/styles.css'), ':root[data-theme="dark"]');
    const badge = themes(read('../../../web-components/src/components/byo-badge.styles.ts'), ":host([theme='dark'])");
    const form = themes(read('../../../web-components/src/components/byo-connect-form.styles.ts'), ":host([theme='dark'])");
    for (const theme of ['light', 'dark'] as const) {
      for (const source of [badge, form]) {
        for (const [name, value] of source[theme]) {
          expect(dashboard[theme].get(name), `${theme} ${name}`).toBe(value);
        }
      }
    }
    expect(dashboard.light.size).toBeGreaterThanOrEqual(6);
  });
});
