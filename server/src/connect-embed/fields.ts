import type { CredentialField } from '../providers/types.js';
import { escapeHtml } from './html.js';

/**
 * The provider choice and the credential fields of the hosted connect form, rendered from the
 * provider catalog (`GET /v1/providers`): one `<template>` per offered provider, which the
 * embed script clones into the form when that provider is chosen. No input has a `name`: a
 * value leaves the page only in the script's `fetch`, as the `data-field` it is tagged with
 * (`providerKey` or `providerConfig.<name>`).
 */

/** A catalog field (`field` is `providerKey` or `providerConfig.<name>`). */
export type FormField = Omit<CredentialField, 'field'> & { field: string };

/** The part of a catalog entry the form renders. */
export interface FormProvider {
  id: string;
  name: string;
  credentials: readonly FormField[];
}

/** Up to this many providers are radio buttons; more are a `<select>`. */
const MAX_RADIOS = 4;

/** `providerKey` keeps the id `byo-key`; `providerConfig.endpoint` is `byo-cfg-endpoint`. */
export function fieldId(field: string): string {
  if (field === 'providerKey') return 'byo-key';
  return `byo-cfg-${field.replace(/^providerConfig\./, '').replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

function renderField(f: FormField): string {
  const id = fieldId(f.field);
  // Only an https link is rendered: the catalog is ours, but a link must never be `javascript:`.
  const help = f.helpUrl?.startsWith('https://')
    ? `\n  <p class="hint"><a href="${escapeHtml(f.helpUrl)}" target="_blank" rel="noopener noreferrer">Where do I find this?</a></p>`
    : '';
  const optional = f.required ? '' : ' <span class="optional">(optional)</span>';
  return `<div class="field">
  <label for="${id}">${escapeHtml(f.label)}${optional}</label>
  <input id="${id}" type="${f.secret ? 'password' : 'text'}" data-field="${escapeHtml(f.field)}" data-label="${escapeHtml(f.label)}" placeholder="${escapeHtml(f.placeholder)}" autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false"${f.required ? ' required' : ''}>${help}
</div>`;
}

/** A provider's fields: the required ones, then the optional ones under a collapsed "Advanced". */
export function renderCredentialFields(p: FormProvider): string {
  const required = p.credentials.filter((c) => c.required).map(renderField);
  const optional = p.credentials.filter((c) => !c.required).map(renderField);
  const advanced = optional.length ? [`<details class="advanced">\n<summary>Advanced</summary>\n${optional.join('\n')}\n</details>`] : [];
  return [...required, ...advanced].join('\n');
}

/** One template per provider, for the script to clone. */
export function renderFieldTemplates(providers: readonly FormProvider[]): string {
  return providers
    .map(
      (p) => `<template id="byo-creds-${escapeHtml(p.id)}" data-name="${escapeHtml(p.name)}">\n${renderCredentialFields(p)}\n</template>`,
    )
    .join('\n');
}

/** The provider choice: hidden when locked to one, radios for a few, an accessible `<select>` for many. */
export function renderProviderPicker(providers: readonly FormProvider[]): string {
  if (providers.length > MAX_RADIOS) {
    const options = providers.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.name)}</option>`).join('\n        ');
    return `<div class="field">
      <label for="byo-provider">Provider</label>
      <select id="byo-provider">
        ${options}
      </select>
    </div>`;
  }
  const radios = providers
    .map(
      (p, i) =>
        `<label class="provider"><input type="radio" name="provider" value="${escapeHtml(p.id)}"${i === 0 ? ' checked' : ''}><span>${escapeHtml(p.name)}</span></label>`,
    )
    .join('\n        ');
  return `<fieldset class="providers"${providers.length === 1 ? ' hidden' : ''}>
      <legend>Provider</legend>
      <div class="provider-list">
        ${radios}
      </div>
    </fieldset>`;
}
