import { html, nothing } from 'lit';
import { api } from '../api.js';
import { fmtInt } from '../format.js';
import { Screen } from '../widgets.js';

type Status = Awaited<ReturnType<typeof api.secrets.status.query>>;

/** Master-key status (admin): rows per key id, what is left to re-wrap, which ids may leave the keyring. */
export class MasterKeysScreen extends Screen {
  static override properties = { ...Screen.properties, data: { state: true } };
  data: Status | null = null;

  protected override async load(): Promise<void> {
    this.data = await api.secrets.status.query();
  }

  override render() {
    const d = this.data;
    return html`<h1 tabindex="-1">Master keys</h1>
      ${this.status()}
      ${
        d
          ? html`<dl class="cards">
              <div><dt>Active key</dt><dd><code>${d.activeKeyId}</code></dd></div>
              <div><dt>Pending re-wrap</dt><dd>${fmtInt(d.pending)}</dd><dd class="muted">${d.pending ? 'run byo secrets rotate-master-key' : 'all on the active key'}</dd></div>
              <div><dt>Retirable</dt><dd>${d.retirable.length ? d.retirable.join(', ') : 'none'}</dd></div>
            </dl>
            <table>
              <thead><tr><th scope="col">Key id</th><th scope="col">Active</th><th scope="col">In keyring</th><th scope="col">Provider keys</th><th scope="col">Webhook secrets</th><th scope="col">Idempotency records</th><th scope="col">Total</th></tr></thead>
              <tbody>${d.keys.map(
                (
                  k,
                ) => html`<tr><td><code>${k.id}</code></td><td>${k.active ? 'yes' : 'no'}</td><td>${k.inKeyring ? 'yes' : html`<strong>no</strong>`}</td>
                  <td>${fmtInt(k.providerKeys)}</td><td>${fmtInt(k.webhookSecrets)}</td><td>${fmtInt(k.idempotencyResponses)}</td><td>${fmtInt(k.total)}</td></tr>`,
              )}</tbody>
            </table>`
          : nothing
      }`;
  }
}
