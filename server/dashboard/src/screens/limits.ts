import { html, nothing } from 'lit';
import { api } from '../api.js';
import { fmtInt, fmtTime, fmtUsd } from '../format.js';
import { confirmAction, Screen } from '../widgets.js';

type Limits = Awaited<ReturnType<typeof api.limits.customerGet.query>>;
type Limit = Limits['limits'][number];
type SetLimit = Parameters<typeof api.limits.customerSet.mutate>[0]['limits'][number];

const amount = (metric: Limit['metric'], n: number) => (metric === 'cost_usd' ? fmtUsd(n) : fmtInt(n));

/**
 * Spend limits (spend controls). With a refId, a customer's: those in force with their use in
 * the current window, and editing the customer's own (add, remove, back to the project default).
 * Without one, the project's default limits, for customers without their own.
 */
export class CustomerLimits extends Screen {
  static override properties = { ...Screen.properties, refId: { type: String }, data: { state: true } };
  refId = '';
  data: Limits | null = null;

  protected override async load(): Promise<void> {
    this.data = this.refId ? await api.limits.customerGet.query({ refId: this.refId }) : await api.limits.defaultGet.query({});
  }

  /** The source whose limits this component edits. */
  private get editable(): Limits['source'] {
    return this.refId ? 'customer' : 'default';
  }

  private save(limits: SetLimit[]): Promise<Limits> {
    if (limits.length === 0)
      return this.refId ? api.limits.customerClear.mutate({ refId: this.refId }) : api.limits.defaultClear.mutate({});
    return this.refId ? api.limits.customerSet.mutate({ refId: this.refId, limits }) : api.limits.defaultSet.mutate({ limits });
  }

  /** The limits this component edits, as input (empty when others or none apply). */
  private own(): SetLimit[] {
    if (this.data?.source !== this.editable) return [];
    return this.data.limits.map((l) => ({
      metric: l.metric,
      window: l.window,
      max: l.max,
      warnAt: l.warnAt,
      ...(l.provider ? { provider: l.provider } : {}),
    }));
  }

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = (n: string) => (form.elements.namedItem(n) as HTMLInputElement | HTMLSelectElement).value;
    const limit = {
      metric: v('metric') as SetLimit['metric'],
      window: v('window') as SetLimit['window'],
      max: Number(v('max')),
      ...(v('provider') ? { provider: v('provider') as NonNullable<SetLimit['provider']> } : {}),
    };
    const ok = await this.act(async () => {
      this.data = await this.save([...this.own(), limit]);
    }, 'Limit saved.');
    if (ok) form.reset();
  }

  private async removeLimit(index: number): Promise<void> {
    const limits = this.own().filter((_, i) => i !== index);
    await this.act(async () => {
      this.data = await this.save(limits);
    }, 'Limit removed.');
  }

  private async clear(): Promise<void> {
    const ok = await confirmAction({
      title: `Remove ${this.refId}'s own limits?`,
      body: "The project's default limits apply to this customer again (none, if the project has no default).",
      confirm: 'Remove limits',
    });
    if (ok)
      await this.act(async () => {
        this.data = await api.limits.customerClear.mutate({ refId: this.refId });
      }, 'The project default applies again.');
  }

  override render() {
    const d = this.data;
    const source = { customer: "this customer's own", default: "the project's default", none: 'none' } as const;
    const editing = d?.source === this.editable;
    return html`<h2 id="limits-title">${this.refId ? 'Limits' : 'Default limits'}</h2>
      ${this.refId ? nothing : html`<p class="muted">For every customer without limits of their own.</p>`}
      ${this.status()}
      ${
        d
          ? html`<p>In force: ${source[d.source]}.</p>
            ${
              d.limits.length
                ? html`<table aria-labelledby="limits-title">
                  <thead><tr><th scope="col">Metric</th><th scope="col">Window</th><th scope="col">Provider</th><th scope="col">Used</th><th scope="col">Resets</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                  <tbody>${d.limits.map(
                    (l, i) => html`<tr>
                      <td>${l.metric}</td><td>${l.window}</td><td>${l.provider ?? 'all'}</td>
                      <td><meter min="0" max=${l.max} value=${Math.min(l.used, l.max)} aria-label=${`${l.metric} per ${l.window} used`}></meter>
                        ${amount(l.metric, l.used)} of ${amount(l.metric, l.max)}</td>
                      <td>${fmtTime(l.resetsAt)}</td>
                      <td class="actions">${
                        d.source === 'customer'
                          ? html`<button type="button" class="secondary" aria-label=${`Remove the ${l.metric} per ${l.window} limit`} @click=${() => this.removeLimit(i)}>Remove</button>`
                          : nothing
                      }</td>
                    </tr>`,
                  )}</tbody>
                </table>`
                : nothing
            }
            <form class="filters" aria-label="Add a limit" @submit=${this.add}>
              <label>Metric <select name="metric"><option value="requests">requests</option><option value="tokens">tokens</option><option value="cost_usd">cost (USD)</option></select></label>
              <label>Window <select name="window"><option value="day">day</option><option value="month">month</option><option value="hour">hour</option><option value="minute">minute</option></select></label>
              <label>Maximum <input name="max" type="number" min="0" step="any" required /></label>
              <label>Provider <input name="provider" autocomplete="off" placeholder="all" /></label>
              <button type="submit" class="primary">Add limit</button>
              ${this.refId && editing ? html`<button type="button" class="secondary" @click=${this.clear}>Use the project default</button>` : nothing}
            </form>`
          : nothing
      }`;
  }
}
