import { html, nothing } from 'lit';
import { api } from '../api.js';
import { fmtTime } from '../format.js';
import { confirmAction, Screen, showSecretOnce } from '../widgets.js';

type Endpoint = Awaited<ReturnType<typeof api.webhooks.endpoints.list.query>>['data'][number];
type Deliveries = Awaited<ReturnType<typeof api.webhooks.deliveries.list.query>>;

/** Webhook endpoints (add, edit, roll secret, send test) and the delivery log (redeliver). */
export class WebhooksScreen extends Screen {
  static override properties = {
    ...Screen.properties,
    endpoints: { state: true },
    deliveries: { state: true },
    editing: { state: true },
  };
  endpoints: Endpoint[] = [];
  deliveries: Deliveries | null = null;
  editing: string | null = null;
  private filter: { endpointId?: string; status?: 'pending' | 'succeeded' | 'failed' } = {};
  private cursor: string | undefined;

  protected override async load(): Promise<void> {
    const endpoint = new URLSearchParams(location.search).get('endpoint');
    if (endpoint && this.filter.endpointId === undefined) this.filter.endpointId = endpoint;
    const [endpoints, deliveries] = await Promise.all([
      api.webhooks.endpoints.list.query({ limit: 100 }),
      api.webhooks.deliveries.list.query({ limit: 50, cursor: this.cursor, ...this.filter }),
    ]);
    this.endpoints = endpoints.data;
    this.deliveries = deliveries;
  }

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const url = (form.elements.namedItem('url') as HTMLInputElement).value.trim();
    const description = (form.elements.namedItem('description') as HTMLInputElement).value.trim();
    let secret = '';
    const ok = await this.act(async () => {
      const created = await api.webhooks.endpoints.create.mutate({ url, ...(description ? { description } : {}) });
      secret = created.secret;
      form.reset();
      await this.load();
    }, 'Endpoint added.');
    if (ok)
      await showSecretOnce({
        title: 'Signing secret',
        label: 'Endpoint signing secret',
        secret,
        note: 'Shown once: store it with your receiver now. BYO keeps it encrypted and never shows it again.',
      });
  }

  private async save(e: SubmitEvent, ep: Endpoint): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const url = (form.elements.namedItem('url') as HTMLInputElement).value.trim();
    const description = (form.elements.namedItem('description') as HTMLInputElement).value.trim();
    const enabled = (form.elements.namedItem('enabled') as HTMLInputElement).checked;
    const ok = await this.act(async () => {
      await api.webhooks.endpoints.update.mutate({ id: ep.id, url, description: description || null, enabled });
      await this.load();
    }, 'Endpoint saved.');
    if (ok) this.editing = null;
  }

  private async roll(ep: Endpoint): Promise<void> {
    const ok = await confirmAction({
      title: `Roll the signing secret of ${ep.url}?`,
      body: 'A new secret signs deliveries from now on; the current one also signs them for 24 hours, so you can update your receiver.',
      confirm: 'Roll secret',
    });
    if (!ok) return;
    let secret = '';
    if (
      await this.act(async () => {
        secret = (await api.webhooks.endpoints.rotateSecret.mutate({ id: ep.id })).secret;
        await this.load();
      }, 'Secret rolled.')
    )
      await showSecretOnce({
        title: 'New signing secret',
        label: 'New endpoint signing secret',
        secret,
        note: 'Shown once: store it with your receiver now.',
      });
  }

  private async test(ep: Endpoint): Promise<void> {
    await this.act(async () => {
      const r = await api.webhooks.endpoints.test.mutate({ id: ep.id });
      this.notice = r.success
        ? `Test event delivered: HTTP ${r.statusCode} in ${r.latencyMs} ms.`
        : `Test event failed: ${r.statusCode ? `HTTP ${r.statusCode}` : (r.error ?? 'no answer')} after ${r.latencyMs} ms.`;
      await this.load();
    });
  }

  private async redeliver(id: string): Promise<void> {
    await this.act(async () => {
      await api.webhooks.deliveries.redeliver.mutate({ id });
      await this.load();
    }, 'Redelivery queued.');
  }

  private filterDeliveries(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const endpointId = (form.elements.namedItem('endpointId') as HTMLSelectElement).value;
    const status = (form.elements.namedItem('status') as HTMLSelectElement).value;
    this.filter = { ...(endpointId ? { endpointId } : {}), ...(status ? { status: status as 'failed' } : {}) };
    this.cursor = undefined;
    void this.reload();
  }

  override render() {
    return html`<h1 tabindex="-1">Webhooks</h1>
      ${this.status()}
      <section aria-labelledby="endpoints-title">
        <h2 id="endpoints-title">Endpoints</h2>
        <table>
          <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${this.endpoints.map((ep) => (this.editing === ep.id ? this.renderEdit(ep) : this.renderEndpoint(ep)))}</tbody>
        </table>
        ${this.endpoints.length || this.loading ? nothing : html`<p class="muted">No endpoints yet.</p>`}
        <form class="filters" @submit=${this.add}>
          <label>Endpoint URL <input name="url" type="url" required placeholder="https://example.com/byo-webhooks" /></label>
          <label>Description <input name="description" autocomplete="off" /></label>
          <button type="submit" class="primary">Add endpoint</button>
        </form>
      </section>
      <section aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Deliveries</h2>
        <form class="filters" @submit=${this.filterDeliveries}>
          <label>Endpoint
            <select name="endpointId">
              <option value="">all</option>
              ${this.endpoints.map((ep) => html`<option value=${ep.id} ?selected=${this.filter.endpointId === ep.id}>${ep.url}</option>`)}
            </select>
          </label>
          <label>Status
            <select name="status">
              ${['', 'pending', 'succeeded', 'failed'].map((s) => html`<option value=${s} ?selected=${(this.filter.status ?? '') === s}>${s || 'any'}</option>`)}
            </select>
          </label>
          <button type="submit" class="secondary">Filter</button>
        </form>
        ${
          this.deliveries
            ? html`<table>
              <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Response</th><th scope="col">Time</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${this.deliveries.data.map(
                (d) => html`<tr>
                  <td>${d.eventType} <code class="muted">${d.eventId}</code></td>
                  <td><span class=${`pill ${d.status}`}>${d.status}</span></td>
                  <td>${d.attempts}</td>
                  <td>${d.lastStatusCode ?? (d.lastError ? html`<span class="muted">${d.lastError}</span>` : '—')}</td>
                  <td>${d.lastLatencyMs === null ? '—' : `${d.lastLatencyMs} ms`}</td>
                  <td>${fmtTime(d.createdAt)}</td>
                  <td class="actions">${
                    d.status === 'pending'
                      ? nothing
                      : html`<button type="button" class="secondary" aria-label=${`Redeliver ${d.eventType} ${d.eventId}`} @click=${() => this.redeliver(d.id)}>Redeliver</button>`
                  }</td>
                </tr>`,
              )}</tbody>
            </table>
            ${this.deliveries.data.length ? nothing : html`<p class="muted">No deliveries match.</p>`}
            ${
              this.deliveries.nextCursor
                ? html`<button type="button" class="secondary" @click=${() => {
                    this.cursor = this.deliveries?.nextCursor ?? undefined;
                    void this.reload();
                  }}>Older deliveries</button>`
                : nothing
            }`
            : nothing
        }
      </section>`;
  }

  private renderEndpoint(ep: Endpoint) {
    return html`<tr>
      <td>${ep.url}${ep.description ? html`<br /><span class="muted">${ep.description}</span>` : nothing}</td>
      <td>${ep.events.join(', ')}</td>
      <td>${ep.enabled ? (ep.failingSince ? html`<span class="pill failed">failing since ${fmtTime(ep.failingSince)}</span>` : html`<span class="pill active">enabled</span>`) : html`<span class="pill disabled">disabled</span>${ep.disabledReason ? html` <span class="muted">${ep.disabledReason}</span>` : nothing}`}</td>
      <td>${fmtTime(ep.updatedAt)}</td>
      <td class="actions">
        <button type="button" class="secondary" aria-label=${`Edit ${ep.url}`} @click=${() => (this.editing = ep.id)}>Edit</button>
        <button type="button" class="secondary" aria-label=${`Send a test event to ${ep.url}`} @click=${() => this.test(ep)}>Send test</button>
        <button type="button" class="secondary" aria-label=${`Roll the signing secret of ${ep.url}`} @click=${() => this.roll(ep)}>Roll secret</button>
      </td>
    </tr>`;
  }

  private renderEdit(ep: Endpoint) {
    return html`<tr>
      <td colspan="5">
        <form class="filters" @submit=${(e: SubmitEvent) => this.save(e, ep)}>
          <label>Endpoint URL <input name="url" type="url" required .value=${ep.url} /></label>
          <label>Description <input name="description" .value=${ep.description ?? ''} /></label>
          <label class="check"><input name="enabled" type="checkbox" ?checked=${ep.enabled} /> Enabled</label>
          <button type="submit" class="primary">Save</button>
          <button type="button" class="secondary" @click=${() => (this.editing = null)}>Cancel</button>
        </form>
      </td>
    </tr>`;
  }
}
