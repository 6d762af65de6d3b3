import { html, nothing } from 'lit';
import { api } from '../api.js';
import { drawChart } from '../chart.js';
import { fmtInt, fmtPct, fmtTime, fmtUsd } from '../format.js';
import { href } from '../nav.js';
import { Screen } from '../widgets.js';

type Overview = Awaited<ReturnType<typeof api.dashboard.overview.query>>;

/** Keys, customers, 30 days of requests, tokens and cost, error rate, failing webhooks: one call. */
export class OverviewScreen extends Screen {
  static override properties = { ...Screen.properties, data: { state: true } };
  data: Overview | null = null;

  protected override async load(): Promise<void> {
    this.data = await api.dashboard.overview.query();
    await this.updateComplete;
    const d = this.data;
    const days = d.days.map((x) => x.day);
    const requests = this.querySelector<HTMLElement>('#chart-requests');
    const tokens = this.querySelector<HTMLElement>('#chart-tokens');
    if (requests)
      await drawChart(requests, days, [
        { label: 'Requests', values: d.days.map((x) => x.requests) },
        { label: 'Errors', values: d.days.map((x) => x.errors) },
      ]);
    if (tokens)
      await drawChart(tokens, days, [
        { label: 'Tokens', values: d.days.map((x) => x.totalTokens) },
        ...(d.totals.costUsd === null ? [] : [{ label: 'Cost (USD)', values: d.days.map((x) => x.costUsd) }]),
      ]);
  }

  override render() {
    const d = this.data;
    return html`<h1 tabindex="-1">Overview</h1>
      ${this.status()}
      ${
        d
          ? html`<section aria-labelledby="at-a-glance">
              <h2 id="at-a-glance" class="visually-hidden">At a glance</h2>
              <dl class="cards">
                <div><dt>Keys connected</dt><dd>${fmtInt(d.keys.active)}</dd><dd class="muted">${fmtInt(d.keys.disabled)} disabled · ${fmtInt(d.keys.revoked)} revoked</dd></div>
                <div><dt>Customers</dt><dd>${fmtInt(d.customers.connected)}</dd><dd class="muted">${fmtInt(d.customers.active)} active in 30 days</dd></div>
                <div><dt>Requests (30 days)</dt><dd>${fmtInt(d.totals.requests)}</dd><dd class="muted">${fmtInt(d.totals.totalTokens)} tokens</dd></div>
                <div><dt>Error rate</dt><dd>${fmtPct(d.errorRate)}</dd><dd class="muted">${fmtInt(d.totals.errors)} errors</dd></div>
                <div><dt>Cost (30 days)</dt><dd>${fmtUsd(d.totals.costUsd)}</dd><dd class="muted">${d.totals.costUsd === null ? 'no prices yet' : 'at the price table'}</dd></div>
                <div><dt>Webhook endpoints</dt><dd>${fmtInt(d.webhooks.endpoints)}</dd><dd class="muted">${fmtInt(d.webhooks.failing.length)} failing · ${fmtInt(d.webhooks.failedDeliveries24h)} failed deliveries in 24 h</dd></div>
              </dl>
            </section>
            <section aria-labelledby="requests-title">
              <h2 id="requests-title">Requests and errors per day</h2>
              <div id="chart-requests" class="chart" role="img" aria-label=${`Requests per day for the last 30 days: ${fmtInt(d.totals.requests)} in all, ${fmtInt(d.totals.errors)} errors.`}></div>
            </section>
            <section aria-labelledby="tokens-title">
              <h2 id="tokens-title">Tokens${d.totals.costUsd === null ? '' : ' and cost'} per day</h2>
              <div id="chart-tokens" class="chart" role="img" aria-label=${`Tokens per day for the last 30 days: ${fmtInt(d.totals.totalTokens)} in all.`}></div>
              <details>
                <summary>The 30 days as a table</summary>
                <table>
                  <caption class="visually-hidden">Usage per day</caption>
                  <thead><tr><th scope="col">Day</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">Tokens</th><th scope="col">Cost</th></tr></thead>
                  <tbody>${d.days.map((x) => html`<tr><td>${x.day}</td><td>${fmtInt(x.requests)}</td><td>${fmtInt(x.errors)}</td><td>${fmtInt(x.totalTokens)}</td><td>${fmtUsd(x.costUsd)}</td></tr>`)}</tbody>
                </table>
              </details>
            </section>
            <section aria-labelledby="failing-title">
              <h2 id="failing-title">Failing webhook endpoints</h2>
              ${
                d.webhooks.failing.length
                  ? html`<table>
                    <thead><tr><th scope="col">Endpoint</th><th scope="col">State</th><th scope="col">Failing since</th></tr></thead>
                    <tbody>${d.webhooks.failing.map(
                      (e) => html`<tr><td><a href=${href(`/webhooks?endpoint=${encodeURIComponent(e.id)}`)}>${e.url}</a></td>
                        <td>${e.enabled ? 'failing' : html`disabled${e.disabledReason ? html` (${e.disabledReason})` : nothing}`}</td>
                        <td>${fmtTime(e.failingSince)}</td></tr>`,
                    )}</tbody>
                  </table>`
                  : html`<p class="muted">None: every endpoint is delivering.</p>`
              }
            </section>`
          : nothing
      }`;
  }
}
