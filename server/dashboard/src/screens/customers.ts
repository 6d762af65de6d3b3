import { html, nothing } from 'lit';
import { api } from '../api.js';
import { fmtInt, fmtTime, fmtUsd } from '../format.js';
import { href, navigate } from '../nav.js';
import { Screen } from '../widgets.js';

type Page = Awaited<ReturnType<typeof api.customers.list.query>>;
type LimitUse = NonNullable<Page['data'][number]['limitUse']>;

const PAGE = 50;

/** "62% of $50/month", "30% of 10 requests/day (openai)". */
function limitText(u: LimitUse): string {
  const max = u.metric === 'cost_usd' ? fmtUsd(u.max) : `${fmtInt(u.max)} ${u.metric}`;
  return `${Math.round(u.fraction * 100)}% of ${max}/${u.window}${u.provider ? ` (${u.provider})` : ''}`;
}

/** The limit nearest its max: a meter for the eye, its words for everyone; whose limit it is in muted text. */
function limitCell(u: LimitUse | null) {
  if (!u) return html`<span class="muted">No limit</span>`;
  return html`<meter aria-hidden="true" min="0" max="1" low="0.5" high="0.8" optimum="0" .value=${Math.min(u.fraction, 1)}></meter>
    ${limitText(u)}${u.source === 'default' ? html` <span class="muted">(default)</span>` : nothing}`;
}

/**
 * Customers, from the customers read model: one row per refId with its keys' providers and
 * statuses, its last call, this month's usage and cost, and its limit nearest its max; a page
 * at a time from the server (cursor pagination, never the whole table), searched by refId prefix.
 */
export class CustomersScreen extends Screen {
  static override properties = { ...Screen.properties, page: { state: true }, cursors: { state: true } };
  page: Page | null = null;
  /** Cursors of the pages before this one (for "Previous page"). */
  cursors: (string | undefined)[] = [];
  private cursor: string | undefined;
  private searchPrefix = '';

  protected override async load(): Promise<void> {
    this.page = await api.customers.list.query({
      limit: PAGE,
      cursor: this.cursor,
      ...(this.searchPrefix ? { prefix: this.searchPrefix } : {}),
    });
  }

  private search(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    this.searchPrefix = (form.elements.namedItem('prefix') as HTMLInputElement).value.trim();
    this.cursor = undefined;
    this.cursors = [];
    void this.reload();
  }

  private openCustomer(e: SubmitEvent): void {
    e.preventDefault();
    const refId = ((e.target as HTMLFormElement).elements.namedItem('refId') as HTMLInputElement).value.trim();
    if (refId) navigate(href(`/customers/${encodeURIComponent(refId)}`));
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
      <div class="row">
        <form class="filters" role="search" aria-label="Search customers" @submit=${this.search}>
          <label>refId starts with <input name="prefix" type="search" autocomplete="off" placeholder="cust_" .value=${this.searchPrefix} /></label>
          <button type="submit" class="primary">Search</button>
        </form>
        <form class="filters" aria-label="Open a customer" @submit=${this.openCustomer}>
          <label>Exact refId <input name="refId" autocomplete="off" placeholder="customer_123" /></label>
          <button type="submit" class="secondary">Open</button>
        </form>
      </div>
      ${this.status()}
      ${
        this.page
          ? html`<table>
              <caption class="visually-hidden">Customers, this month</caption>
              <thead><tr><th scope="col">Customer (refId)</th><th scope="col">Keys</th><th scope="col">Last used</th><th scope="col">Requests this month</th><th scope="col">Tokens this month</th><th scope="col">Cost this month</th><th scope="col">Limit use</th></tr></thead>
              <tbody>
                ${this.page.data.map(
                  (c) => html`<tr>
                    <td><a href=${href(`/customers/${encodeURIComponent(c.refId)}`)}>${c.refId}</a></td>
                    <td>${c.keys.map((k) => html`<span class=${`pill ${k.status}`}>${k.provider}: ${k.status}</span> `)}</td>
                    <td>${fmtTime(c.lastUsedAt)}</td>
                    <td>${fmtInt(c.thisMonth.requests)}</td>
                    <td>${fmtInt(c.thisMonth.totalTokens)}</td>
                    <td>${fmtUsd(c.thisMonth.costUsd)}${c.thisMonth.unpricedRequests ? html` <span class="muted">+ ${fmtInt(c.thisMonth.unpricedRequests)} unpriced</span>` : nothing}</td>
                    <td>${limitCell(c.limitUse)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            ${this.page.data.length ? nothing : html`<p class="muted">No customers match.</p>`}
            <div class="row">
              <button type="button" class="secondary" ?disabled=${!this.cursors.length} @click=${this.previous}>Previous page</button>
              <button type="button" class="secondary" ?disabled=${!this.page.nextCursor} @click=${this.next}>Next page</button>
            </div>`
          : nothing
      }
      <section aria-labelledby="limits-title"><byo-customer-limits></byo-customer-limits></section>`;
  }
}
