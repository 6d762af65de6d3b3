import { css } from 'lit';

export const badgeStyles = css`
  :host {
    --_fg: var(--byo-color-text, #1f2328);
    --_muted: var(--byo-color-text-muted, #57606a);
    --_bg: var(--byo-color-background, #ffffff);
    --_border: var(--byo-color-border, #d0d7de);
    --_accent: var(--byo-color-accent, #1a7f37);
    --_focus: var(--byo-color-focus, #0969da);
    display: inline-block;
    position: relative;
    font-family: var(--byo-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: var(--byo-font-size, 13px);
    line-height: 1.4;
    color: var(--_fg);
  }
  :host([theme='dark']) {
    --_fg: var(--byo-color-text, #e6edf3);
    --_muted: var(--byo-color-text-muted, #9da7b3);
    --_bg: var(--byo-color-background, #0d1117);
    --_border: var(--byo-color-border, #30363d);
    --_accent: var(--byo-color-accent, #3fb950);
    --_focus: var(--byo-color-focus, #58a6ff);
  }
  [part='base'] {
    display: inline-flex;
    flex-direction: column;
    align-items: flex-start;
    gap: 6px;
  }
  [part='button'] {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    padding: 4px 10px 4px 8px;
    border: 1px solid var(--_border);
    border-radius: var(--byo-radius, 999px);
    background: var(--_bg);
    color: var(--_fg);
    font: inherit;
    cursor: pointer;
  }
  [part='button']:hover {
    border-color: var(--_accent);
  }
  [part='button']:focus-visible {
    outline: 2px solid var(--_focus);
    outline-offset: 2px;
  }
  [part='icon'] {
    width: 14px;
    height: 14px;
    color: var(--_accent);
    flex: none;
  }
  .chevron {
    width: 10px;
    height: 10px;
    color: var(--_muted);
    transition: transform 0.15s;
  }
  :host([open]) .chevron {
    transform: rotate(180deg);
  }
  [part='panel'] {
    max-width: var(--byo-panel-width, 320px);
    box-sizing: border-box;
    padding: 10px 12px;
    border: 1px solid var(--_border);
    border-radius: var(--byo-panel-radius, 8px);
    background: var(--_bg);
    color: var(--_fg);
    box-shadow: var(--byo-shadow, 0 4px 12px rgb(0 0 0 / 0.08));
  }
  [part='panel'][hidden] {
    display: none;
  }
  [part='heading'] {
    margin: 0 0 8px;
  }
  [part='list'] {
    margin: 0;
    padding: 0;
    list-style: none;
    display: grid;
    gap: 8px;
  }
  li {
    display: grid;
    grid-template-columns: 14px 1fr;
    gap: 8px;
  }
  li svg {
    width: 14px;
    height: 14px;
    margin-top: 2px;
    color: var(--_accent);
  }
  strong {
    font-weight: 600;
  }
  .muted {
    color: var(--_muted);
  }
  @media (prefers-reduced-motion: reduce) {
    .chevron {
      transition: none;
    }
  }
`;
