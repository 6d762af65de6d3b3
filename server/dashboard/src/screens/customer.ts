import { html, nothing } from 'lit';
import { api } from '../api.js';
import { drawChart } from '../chart.js';
import { fmtInt, fmtTime, fmtUsd } from '../format.js';
import { href } from '../nav.js';
import { confirmAction, Screen } from '../widgets.js';

type Key = Awaited<ReturnType<typeof api.keys.list.query>>['data'][number];
type Usage = Awaited<ReturnType<typeof api.usage.get.query>>;

/** One customer: its keys (validate, revoke after a confirmation) and its usage by provider and model. */
export class CustomerScreen extends Screen {
  static override properties = { ...Screen.properties, refId: { type: String }, keys: { state: true }, usage: { state: true } };
  refId = '';
  keys: Key[] = [];
  usage: Usage | null = null;

  protected override async load(): Promise<void> {
    const [keys, usage] = await Promise.all([
      api.keys.list.query({ refId: this.refId, limit: 100 }),
      api.usage.get.query({ refId: this.refId, limit: 1000 }),
    ]);
    this.keys = keys.data;
    this.usage = usage;
    await this.updateComplete;
    const chart = this.querySelector<HTMLElement>('#chart-usage');
    if (chart && usage.data.length) {
      const days = dayRange(usage.from, usage.to);
      const series = new Map<string, Map<string, number>>();
      for (const r of usage.data) {
        const name = `${r.provider} ${r.model ?? '(no model)'}`;
        const m = series.get(name) ?? new Map<string, number>();
        m.set(r.day, (m.get(r.day) ?? 0) + r.requests);
        series.set(name, m);
      }
      await drawChart(
        chart,
        days,
        [...series].slice(0, 6).map(([label, m]) => ({ label, values: days.map((d) => m.get(d) ?? 0) })),
      );
    }
  }

  private async validate(k: Key): Promise<void> {
    await this.act(async () => {
      const r = await api.keys.validate.mutate({ provider: k.provider, refId: k.refId });
      this.notice = r.valid ? `The ${k.provider} key is valid.` : `The ${k.provider} key is ${r.result}${r.reason ? `: ${r.reason}` : ''}.`;
      await this.load();
    });
  }

  private async revoke(k: Key): Promise<void> {
    const ok = await confirmAction({
      title: `Revoke the ${k.provider} key of ${k.refId}?`,
      body: 'The key material is destroyed at once: calls through BYO for this customer and provider fail until they connect a key again. A key.revoked event is sent.',
      confirm: 'Revoke key',
    });
    if (!ok) return;
    await this.act(async () => {
      await api.keys.revoke.mutate({ provider: k.provider, refId: k.refId });
      await this.load();
    }, `The ${k.provider} key of ${k.refId} is revoked.`);
  }

  override render() {
    const byModel = new Map<string, { requests: number; errors: number; tokens: number; cost: number | null }>();
    for (const r of this.usage?.data ?? []) {
      const name = `${r.provider}\u0000${r.model ?? ''}`;
      const t = byModel.get(name) ?? { requests: 0, errors: 0, tokens: 0, cost: null };
      const cost = r.costUsd === null ? t.cost : (t.cost ?? 0) + r.costUsd;
      byModel.set(name, { requests: t.requests + r.requests, errors: t.errors + r.errors, tokens: t.tokens + r.totalTokens, cost });
    }
    return html`<p class="crumbs"><a href=${href('/customers')}>Customers</a> /</p>
      <h1 tabindex="-1">${this.refId}</h1>
      ${this.status()}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        ${
          this.keys.length
            ? html`<table>
              <thead><tr><th scope="col">Provider</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Last check</th><th scope="col">Models</th><th scope="col">Owner's cap</th><th scope="col">Connected</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${this.keys.map(
                (k) => html`<tr>
                  <td>${k.provider}</td>
                  <td><code>${k.keyHint ?? '—'}</code></td>
                  <td><span class=${`pill ${k.status}`}>${k.status}</span>${k.statusReason ? html` <span class="muted">${k.statusReason}</span>` : nothing}</td>
                  <td>${lastCheck(k)}</td>
                  <td>${models(k)}</td>
                  <td>${ownerCap(k)}</td>
                  <td>${fmtTime(k.createdAt)}</td>
                  <td class="actions">
                    ${
                      k.status === 'revoked'
                        ? nothing
                        : html`<button type="button" class="secondary" aria-label=${`Validate the ${k.provider} key`} @click=${() => this.validate(k)}>Validate</button>
                          <button type="button" class="danger" aria-label=${`Revoke the ${k.provider} key`} @click=${() => this.revoke(k)}>Revoke</button>`
                    }
                  </td>
                </tr>`,
              )}</tbody>
            </table>`
            : this.loading
              ? nothing
              : html`<p class="muted">No stored keys for this refId.</p>`
        }
      </section>
      <section aria-labelledby="limits-title"><byo-customer-limits .refId=${this.refId}></byo-customer-limits></section>
      <section aria-labelledby="usage-title">
        <h2 id="usage-title">Usage, last 30 days</h2>
        ${
          this.usage
            ? html`<p>${fmtInt(this.usage.totals.requests)} requests, ${fmtInt(this.usage.totals.errors)} errors, ${fmtInt(this.usage.totals.totalTokens)} tokens, ${fmtUsd(this.usage.totals.costUsd)}${this.usage.totals.unpricedRequests ? html` <span class="muted">(${fmtInt(this.usage.totals.unpricedRequests)} calls without a price)</span>` : nothing}.</p>`
            : nothing
        }
        ${
          this.usage?.data.length
            ? html`<div id="chart-usage" class="chart" role="img" aria-label=${`Requests per day by provider and model: ${fmtInt(this.usage.totals.requests)} in all.`}></div>
              <table>
                <thead><tr><th scope="col">Provider</th><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">Tokens</th><th scope="col">Cost</th></tr></thead>
                <tbody>${[...byModel].map(([name, t]) => {
                  const [provider, model] = name.split('\u0000');
                  return html`<tr><td>${provider}</td><td>${model || '—'}</td><td>${fmtInt(t.requests)}</td><td>${fmtInt(t.errors)}</td><td>${fmtInt(t.tokens)}</td><td>${fmtUsd(t.cost)}</td></tr>`;
                })}</tbody>
              </table>`
            : html`<p class="muted">${this.usage ? 'No calls in the last 30 days.' : ''}</p>`
        }
      </section>`;
  }
}

function dayRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** The cap the customer gave when connecting the key (it applies on top of the limits below), in words. */
function ownerCap(k: Key) {
  if (!k.limits?.length) return html`<span class="muted">none</span>`;
  return k.limits
    .map((l) => (l.metric === 'cost_usd' ? `${fmtUsd(l.max)} per ${l.window}` : `${fmtInt(l.max)} ${l.metric} per ${l.window}`))
    .join(', ');
}

/** The last check with its provider (key health), in words. */
function lastCheck(k: Key) {
  const v = k.lastValidation;
  if (!v) return html`<span class="muted">never</span>`;
  return html`<span class=${`pill ${v.outcome === 'valid' ? 'active' : 'failed'}`}>${v.outcome}</span> ${fmtTime(v.at)}${
    v.message ? html`<br /><span class="muted">${v.message}</span>` : nothing
  }`;
}

function models(k: Key) {
  if (!k.models) return html`<span class="muted">not listed</span>`;
  const shown = k.models.slice(0, 4).join(', ');
  return html`<span title=${k.models.join(', ')}>${k.models.length} (${shown}${k.models.length > 4 ? ', …' : ''})</span>`;
}
