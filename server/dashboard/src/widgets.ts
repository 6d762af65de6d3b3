import { html, LitElement, nothing, type TemplateResult } from 'lit';
import { reportError } from './api.js';

/**
 * The pieces every screen uses: a light-DOM base class (one stylesheet, styles.css, themes
 * everything), a confirmation dialog and a dialog that shows a secret once. Both dialogs are
 * native <dialog> elements: modal, focus-trapping and closed by Escape without our code.
 */
export class Screen extends LitElement {
  static override properties = { loading: { state: true }, error: { state: true }, notice: { state: true } };
  loading = true;
  error = '';
  notice = '';

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
  }

  /** Loads the screen's data; the subclass's load() makes its few calls. */
  async reload(): Promise<void> {
    this.loading = true;
    this.error = '';
    try {
      await this.load();
    } catch (e) {
      this.error = reportError(e);
    } finally {
      this.loading = false;
    }
  }

  protected async load(): Promise<void> {}

  /** Runs an action, showing its failure (or a notice) on the screen instead of throwing. */
  protected async act(fn: () => Promise<unknown>, done?: string): Promise<boolean> {
    this.error = '';
    this.notice = '';
    try {
      await fn();
      if (done) this.notice = done;
      return true;
    } catch (e) {
      this.error = reportError(e);
      return false;
    }
  }

  protected status(): TemplateResult | typeof nothing {
    return html`${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
    ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
    ${this.loading ? html`<p class="muted" role="status">Loading…</p>` : nothing}`;
  }
}

/** Asks before a destructive action; resolves true when confirmed. */
export function confirmAction(opts: { title: string; body: string; confirm: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-title');
    const h = document.createElement('h2');
    h.id = 'confirm-title';
    h.textContent = opts.title;
    const p = document.createElement('p');
    p.textContent = opts.body;
    const row = document.createElement('div');
    row.className = 'row';
    const cancel = button('Cancel', 'secondary');
    const ok = button(opts.confirm, 'danger');
    row.append(cancel, ok);
    dialog.append(h, p, row);
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Shows a secret once (a new API key, a webhook signing secret), with a copy button. */
export function showSecretOnce(opts: { title: string; label: string; secret: string; note: string }): Promise<void> {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'dialog';
    dialog.setAttribute('aria-labelledby', 'secret-title');
    const h = document.createElement('h2');
    h.id = 'secret-title';
    h.textContent = opts.title;
    const note = document.createElement('p');
    note.textContent = opts.note;
    const label = document.createElement('label');
    label.textContent = opts.label;
    const input = document.createElement('input');
    input.readOnly = true;
    input.value = opts.secret;
    input.className = 'secret';
    input.spellcheck = false;
    label.append(input);
    const row = document.createElement('div');
    row.className = 'row';
    const copy = button('Copy', 'secondary');
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(opts.secret).then(() => (copy.textContent = 'Copied'));
    });
    const close = button('I have stored it', 'primary');
    close.addEventListener('click', () => dialog.close());
    row.append(copy, close);
    dialog.append(h, note, label, row);
    dialog.addEventListener('close', () => {
      input.value = '';
      dialog.remove();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}

function button(text: string, kind: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = kind;
  b.textContent = text;
  return b;
}
