import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { checkPublishableKey, type ConnectResult, resolveBaseURL } from '../client.js';
import { formStyles } from './byo-connect-form.styles.js';

/** Detail of `byo:connected`: the stored key's metadata, never the key. */
export type ConnectedDetail = Omit<ConnectResult, 'keyHint'>;
/** Detail of `byo:error`. `statusCode` is 0 when no HTTP answer is involved (configuration, load failure). */
export interface ErrorDetail {
  message: string;
  statusCode: number;
  code: string;
}

/** How long the embed page may take to say it is ready after its frame has loaded. */
const READY_GRACE_MS = 1500;

/**
 * `<byo-connect-form>`: the customer types their key into a page served by the BYO server,
 * in a cross-origin iframe, so no script on the host page can read it. The frame reports
 * back with `postMessage`; only messages from that frame's window and the BYO server's
 * origin are accepted, and re-dispatched as bubbling, composed `byo:connected` /
 * `byo:error` events.
 *
 * @attr publishable-key - the project's `byo_pk_...` key (required)
 * @attr ref-id - your id for the customer (required)
 * @attr provider - lock the form to one provider: any id of `GET /v1/providers`
 * @attr providers - comma list of the provider ids to offer (default: every provider)
 * @attr theme - `light` (default) or `dark`
 * @attr base-url - the BYO server (default `http://localhost:3000`)
 * @attr connect-token - a token from `POST /v1/connect-tokens`, to replace a key or set a custom base URL
 * @attr spending-cap - the optional "Spending cap" field: `off` hides it, an amount in USD (`50`) presets it
 * @attr spending-cap-window - the preset cap's period: `month` (default) or `day`
 * @fires byo:connected - `{ id, provider, refId, status, updated }`
 * @fires byo:error - `{ message, statusCode, code }`
 * @csspart base, frame, error
 * @cssprop --byo-form-height - the frame's height until the form reports its own
 */
export class ByoConnectForm extends LitElement {
  static override styles = formStyles;

  @property({ attribute: 'publishable-key' }) publishableKey = '';
  @property({ attribute: 'ref-id' }) refId = '';
  @property() provider = '';
  @property() providers = '';
  @property({ reflect: true }) theme: 'light' | 'dark' = 'light';
  @property({ attribute: 'base-url' }) baseUrl = '';
  @property({ attribute: 'connect-token' }) connectToken = '';
  @property({ attribute: 'spending-cap' }) spendingCap = '';
  @property({ attribute: 'spending-cap-window' }) spendingCapWindow = '';

  @state() private loadFailed = false;
  @query('iframe') private frame!: HTMLIFrameElement | null;

  private ready = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reported = '';

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('message', this.onMessage);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('message', this.onMessage);
    clearTimeout(this.timer);
  }

  /** The embed URL, or the reason it cannot be built. Never throws (render must not). */
  private buildTarget(): { url: string; origin: string } | { error: string } {
    try {
      const pk = checkPublishableKey(this.publishableKey);
      if (!this.refId) return { error: 'byo-connect-form needs a ref-id attribute.' };
      const base = resolveBaseURL(this.baseUrl || undefined);
      const q = new URLSearchParams({ pk, refId: this.refId, parentOrigin: location.origin, theme: this.theme });
      if (this.provider) q.set('provider', this.provider);
      if (this.providers) q.set('providers', this.providers);
      if (this.spendingCap) q.set('spendingCap', this.spendingCap);
      if (this.spendingCapWindow) q.set('spendingCapWindow', this.spendingCapWindow);
      // The token goes in the fragment: it never reaches a server log or a Referer header.
      const hash = this.connectToken ? `#ct=${encodeURIComponent(this.connectToken)}` : '';
      return { url: `${base}/connect/embed?${q}${hash}`, origin: new URL(base).origin };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  private target: { url: string; origin: string } | { error: string } = { error: '' };

  override willUpdate(changed: PropertyValues<this>): void {
    if (!this.hasUpdated || [...changed.keys()].some((k) => k !== 'loadFailed')) {
      this.target = this.buildTarget();
      this.loadFailed = false;
      this.ready = false;
    }
  }

  override render() {
    const error = this.errorMessage();
    return html`<div part="base">
      ${
        error
          ? html`<p part="error" role="alert">${error}</p>`
          : html`<iframe
              part="frame"
              title="Connect your AI provider key"
              src=${'url' in this.target ? this.target.url : nothing}
              sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"
              referrerpolicy="origin"
              @load=${this.onLoad}
            ></iframe>`
      }
    </div>`;
  }

  override updated(): void {
    const message = this.errorMessage();
    // Once per distinct failure, after it is on screen.
    if (message && message !== this.reported) this.emit('byo:error', { message, statusCode: 0, code: 'form_unavailable' });
    this.reported = message;
  }

  private errorMessage(): string {
    const t = this.target;
    if ('error' in t) return t.error;
    return this.loadFailed
      ? `The key form could not be loaded from ${t.origin}. Check the publishable-key, and that this page's origin (${location.origin}) is in the project's allowed origins.`
      : '';
  }

  private onLoad = () => {
    clearTimeout(this.timer);
    if (!this.ready) this.timer = setTimeout(() => (this.loadFailed = !this.ready), READY_GRACE_MS);
  };

  private onMessage = (event: MessageEvent) => {
    const frame = this.frame;
    if (!frame || !('origin' in this.target) || event.source !== frame.contentWindow || event.origin !== this.target.origin) return;
    const data = event.data as Record<string, unknown> | null;
    if (!data || typeof data !== 'object') return;
    if (data.type === 'byo:ready') {
      this.ready = true;
      clearTimeout(this.timer);
    } else if (data.type === 'byo:resize') {
      const h = Number(data.height);
      if (h > 0 && h < 4000) frame.style.height = `${Math.ceil(h)}px`;
    } else if (data.type === 'byo:connected') {
      const { id, provider, refId, status, updated } = data;
      this.emit('byo:connected', { id, provider, refId, status, updated: updated === true } as ConnectedDetail);
    } else if (data.type === 'byo:error') {
      this.emit('byo:error', { message: String(data.message), statusCode: Number(data.statusCode) || 0, code: String(data.code) });
    }
  };

  private emit(type: string, detail: ConnectedDetail | ErrorDetail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
