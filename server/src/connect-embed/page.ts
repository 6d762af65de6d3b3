import type { Mode } from '../db/schema.js';
import { type CapOption, renderCapField } from './cap-field.js';
import { type FormProvider, renderFieldTemplates, renderProviderPicker } from './fields.js';
import { escapeHtml } from './html.js';

/**
 * The HTML of the hosted connect form. Plain HTML with one external script and one external
 * stylesheet: the Content-Security-Policy allows no inline script or style. Every dynamic
 * value is escaped, and no field has a `name`, so the key can never be submitted by a
 * form post (it only leaves the page in the script's `fetch`). The fields are the chosen
 * provider's catalog entry (fields.ts).
 */

export interface EmbedAssets {
  script: string;
  style: string;
}

export interface FormView {
  assets: EmbedAssets;
  theme: 'light' | 'dark';
  mode: Mode;
  publishableKey: string;
  refId: string;
  parentOrigin: string;
  /** The catalog entries offered, in catalog order; at least one. */
  providers: FormProvider[];
  /** The optional "Spending cap" field. */
  cap: CapOption;
}

export interface ErrorView {
  assets: EmbedAssets;
  theme: 'light' | 'dark';
  title: string;
  message: string;
}

/** The CSP of every embed page. `frameAncestors` are origins already validated as such. */
export function embedCsp(frameAncestors: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
    "require-trusted-types-for 'script'",
  ].join('; ');
}

const LOCK =
  '<svg class="lock" viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 1a3.5 3.5 0 0 0-3.5 3.5V6H4a1.5 1.5 0 0 0-1.5 1.5v6A1.5 1.5 0 0 0 4 15h8a1.5 1.5 0 0 0 1.5-1.5v-6A1.5 1.5 0 0 0 12 6h-.5V4.5A3.5 3.5 0 0 0 8 1Zm2 5H6V4.5a2 2 0 1 1 4 0V6Z"/></svg>';

function layout(assets: EmbedAssets, theme: string, title: string, bodyAttrs: string, main: string): string {
  return `<!doctype html>
<html lang="en" data-theme="${escapeHtml(theme)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${escapeHtml(assets.style)}">
<script src="${escapeHtml(assets.script)}" defer></script>
</head>
<body${bodyAttrs}>
${main}
</body>
</html>
`;
}

export function renderForm(v: FormView): string {
  const attrs = ` data-pk="${escapeHtml(v.publishableKey)}" data-ref-id="${escapeHtml(v.refId)}" data-parent-origin="${escapeHtml(v.parentOrigin)}" data-mode="${v.mode}"`;
  const single = v.providers.length === 1 ? v.providers[0] : undefined;
  const testMode =
    v.mode === 'test'
      ? '\n      <p class="test-mode"><span class="pill">Test mode</span> The key <code>sk-byo-test-valid</code> works without a provider account.</p>'
      : '';
  const main = `<main class="card">
  <form id="byo-form" method="post" novalidate autocomplete="off">
    <header>
      <h1>Connect your ${single ? escapeHtml(single.name) : 'AI provider'} key</h1>${testMode}
    </header>
    ${renderProviderPicker(v.providers)}
    <div id="byo-fields" class="fields"></div>
    ${renderCapField(v.cap)}
    <button type="submit" id="byo-submit" disabled><span class="spinner" aria-hidden="true"></span><span id="byo-submit-label">Connect key</span></button>
    <p id="byo-status" class="status" role="status" aria-live="polite"></p>
    <p id="byo-error" class="error" role="alert"></p>
  </form>
${renderFieldTemplates(v.providers)}
  <footer class="trust">${LOCK}<span>Encrypted with AES-256-GCM. The app's servers never see your key, and it can be revoked at any time.</span></footer>
</main>`;
  return layout(v.assets, v.theme, 'Connect your AI provider key', attrs, main);
}

export function renderError(v: ErrorView): string {
  const main = `<main class="card unavailable">
  <h1>${escapeHtml(v.title)}</h1>
  <p class="error" role="alert">${escapeHtml(v.message)}</p>
</main>`;
  return layout(v.assets, v.theme, v.title, ' data-unavailable=""', main);
}
