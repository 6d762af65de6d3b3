import { html, nothing } from 'lit';
import { api } from '../api.js';
import { fmtTime } from '../format.js';
import { href, navigate } from '../nav.js';
import { Screen } from '../widgets.js';

type KeyPage = Awaited<ReturnType<typeof api.keys.list.query>>;

const PAGE = 50;

/**
 * Customers: the stored keys, a page at a time from the server (cursor pagination, never
 * the whole table), filtered by provider and status; the search goes to a customer's page.
 */
export class CustomersScreen extends Screen {
  static override properties = { ...Screen.properties, page: { state: true }, cursors: { state: true } };
  page: KeyPage | null = null;
  /** Cursors of the pages before this one (for "Previous"). */
  cursors: (string | undefined)[] = [];
  private cursor: string | undefined;
  private filters: { provider?: string; status?: 'active' | 'revoked' | 'disabled' } = {};

  protected override async load(): Promise<void> {
    this.page = await api.keys.list.query({ limit: PAGE, cursor: this.cursor, ...(this.filters as object) });
  }

  private search(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const refId = (form.elements.namedItem('refId') as HTMLInputElement).value.trim();
    if (refId) {
      navigate(href(`/customers/${encodeURIComponent(refId)}`));
      return;
    }
    const provider = (form.elements.namedItem('provider') as HTMLSelectElement).value;
    const status = (form.elements.namedItem('status') as HTMLSelectElement).value;
    this.filters = { ...(provider ? { provider } : {}), ...(status ? { status: status as 'active' } : {}) };
    this.cursor = undefined;
    this.cursors = [];
    void this.reload();
  }

  private next(): void {
    if (!this.page?.nextCursor) return;
    this.cursors = [...this.cursors, this.cursor];
    this.cursor = this.page.nextCursor;
    void this.reload();
  }

  private previous(): void {
    this.cursor = this.cursors.at(-1);
    this.cursors = this.cursors.slice(0, -1);
    void this.reload();
  }

  override render() {
    return html`<h1 tabindex="-1">Customers</h1>
      <form class="filters" role="search" @submit=${this.search}>
        <label>Customer refId <input name="refId" type="search" autocomplete="off" placeholder="customer_123" /></label>
        <label>Provider <input name="provider" autocomplete="off" placeholder="any" /></label>
        <label>Status
          <select name="status">
            <option value="">any</option><option value="active">active</option><option value="disabled">disabled</option><option value="revoked">revoked</option>
          </select>
        </label>
        <button type="submit" class="primary">Search</button>
      </form>
      ${this.status()}
      ${
        this.page
          ? html`<table>
              <caption class="visually-hidden">Stored keys by customer</caption>
              <thead><tr><th scope="col">Customer (refId)</th><th scope="col">Provider</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Last check</th><th scope="col">Updated</th></tr></thead>
              <tbody>
                ${this.page.data.map(
                  (k) => html`<tr>
                    <td><a href=${href(`/customers/${encodeURIComponent(k.refId)}`)}>${k.refId}</a></td>
                    <td>${k.provider}</td>
                    <td><code>${k.keyHint ?? '—'}</code></td>
                    <td><span class=${`pill ${k.status}`}>${k.status}</span></td>
                    <td>${k.lastValidation ? html`${k.lastValidation.outcome} <span class="muted">${fmtTime(k.lastValidation.at)}</span>` : html`<span class="muted">never</span>`}</td>
                    <td>${fmtTime(k.updatedAt)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            ${this.page.data.length ? nothing : html`<p class="muted">No keys match.</p>`}
            <div class="row">
              <button type="button" class="secondary" ?disabled=${!this.cursors.length} @click=${this.previous}>Previous page</button>
              <button type="button" class="secondary" ?disabled=${!this.page.nextCursor} @click=${this.next}>Next page</button>
            </div>`
          : nothing
      }`;
  }
}
