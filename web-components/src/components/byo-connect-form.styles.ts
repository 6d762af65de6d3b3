import { css } from 'lit';

export const formStyles = css`
  :host {
    display: block;
    font-family: var(--byo-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: var(--byo-font-size, 14px);
    color: var(--byo-color-text, #1f2328);
  }
  :host([theme='dark']) {
    color: var(--byo-color-text, #e6edf3);
  }
  [part='base'] {
    width: 100%;
  }
  [part='frame'] {
    display: block;
    width: 100%;
    height: var(--byo-form-height, 360px);
    border: 0;
    border-radius: var(--byo-radius, 12px);
    background: transparent;
    color-scheme: normal;
  }
  [part='error'] {
    margin: 0;
    padding: 12px 14px;
    border: 1px solid var(--byo-color-danger, #cf222e);
    border-radius: var(--byo-radius, 12px);
    color: var(--byo-color-danger, #cf222e);
    background: var(--byo-color-background, transparent);
  }
`;
