import { html, LitElement, svg } from 'lit';
import { property } from 'lit/decorators.js';
import { badgeStyles } from './byo-badge.styles.js';

const lock = svg`<path fill="currentColor" d="M8 1a3.5 3.5 0 0 0-3.5 3.5V6H4a1.5 1.5 0 0 0-1.5 1.5v6A1.5 1.5 0 0 0 4 15h8a1.5 1.5 0 0 0 1.5-1.5v-6A1.5 1.5 0 0 0 12 6h-.5V4.5A3.5 3.5 0 0 0 8 1Zm2 5H6V4.5a2 2 0 1 1 4 0V6Z"/>`;
const check = svg`<path fill="currentColor" d="M13.78 4.22a.75.75 0 0 1 0 1.06l-7.25 7.25a.75.75 0 0 1-1.06 0L2.22 9.28a.75.75 0 1 1 1.06-1.06L6 10.94l6.72-6.72a.75.75 0 0 1 1.06 0Z"/>`;
const chevron = svg`<path fill="currentColor" d="M12.78 5.22a.75.75 0 0 1 0 1.06l-4.25 4.25a.75.75 0 0 1-1.06 0L3.22 6.28a.75.75 0 0 1 1.06-1.06L8 8.94l3.72-3.72a.75.75 0 0 1 1.06 0Z"/>`;

const icon = (path: unknown, part?: string, cls?: string) =>
  html`<svg part=${part ?? ''} class=${cls ?? ''} viewBox="0 0 16 16" aria-hidden="true" focusable="false">${path}</svg>`;

/**
 * `<byo-badge>`: tells the customer, in plain words, what protects the key they connect.
 * A disclosure button (WAI-ARIA pattern: `aria-expanded` + `aria-controls`, Escape closes)
 * reveals the details. Renders without any network call.
 *
 * @attr theme - `light` (default) or `dark`
 * @attr open - the details are shown
 * @attr app-name - the app's name in "Acme's servers never see it"
 * @slot - the button's label (default "Your key is protected")
 * @csspart base, button, icon, label, panel, heading, list
 * @cssprop --byo-color-text, --byo-color-text-muted, --byo-color-background, --byo-color-border,
 *   --byo-color-accent, --byo-color-focus, --byo-font-family, --byo-font-size, --byo-radius,
 *   --byo-panel-radius, --byo-panel-width, --byo-shadow
 */
export class ByoBadge extends LitElement {
  static override styles = badgeStyles;

  @property({ reflect: true }) theme: 'light' | 'dark' = 'light';
  @property({ type: Boolean, reflect: true }) open = false;
  @property({ attribute: 'app-name' }) appName = '';

  override render() {
    const app = this.appName.trim();
    return html`<div part="base" @keydown=${this.onKeydown}>
      <button part="button" type="button" aria-expanded=${this.open ? 'true' : 'false'} aria-controls="panel" @click=${this.toggle}>
        ${icon(lock, 'icon')}<span part="label"><slot>Your key is protected</slot></span>${icon(chevron, undefined, 'chevron')}
      </button>
      <div part="panel" id="panel" role="region" aria-labelledby="heading" ?hidden=${!this.open}>
        <p part="heading" id="heading"><strong>How your API key is protected</strong></p>
        <ul part="list">
          <li>${icon(check)}<span><strong>Encrypted at rest</strong> <span class="muted">with AES-256-GCM before it is stored.</span></span></li>
          <li>${icon(check)}<span><strong>${app ? `${app}'s` : "The app's"} servers never see it.</strong> <span class="muted">It goes from your browser straight to the key vault, and is never shown again.</span></span></li>
          <li>${icon(check)}<span><strong>Revocable at any time.</strong> <span class="muted">Revoking destroys the stored key.</span></span></li>
        </ul>
      </div>
    </div>`;
  }

  private toggle() {
    this.open = !this.open;
  }

  private onKeydown(event: KeyboardEvent) {
    if (event.key !== 'Escape' || !this.open) return;
    this.open = false;
    this.renderRoot.querySelector<HTMLButtonElement>('[part="button"]')?.focus();
  }
}
