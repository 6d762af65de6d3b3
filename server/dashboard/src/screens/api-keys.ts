import { html, nothing } from 'lit';
import { api, state } from '../api.js';
import { fmtTime } from '../format.js';
import { confirmAction, Screen, showSecretOnce } from '../widgets.js';

type ApiKey = Awaited<ReturnType<typeof api.apiKeys.list.query>>['data'][number];

/** The chosen project's BYO API keys (admin): create, roll with an overlap, revoke; a new key is shown once. */
export class ApiKeysScreen extends Screen {
  static override properties = { ...Screen.properties, keys: { state: true } };
  keys: ApiKey[] = [];

  protected override async load(): Promise<void> {
    if (!state.project) return;
    this.keys = (await api.apiKeys.list.query({ projectId: state.project })).data;
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const kind = (form.elements.namedItem('kind') as HTMLSelectElement).value === 'pk' ? 'pk' : 'sk';
    const mode = (form.elements.namedItem('mode') as HTMLSelectElement).value === 'live' ? 'live' : 'test';
    let key = '';
    const ok = await this.act(async () => {
      key = (await api.apiKeys.create.mutate({ projectId: state.project as string, kind, mode })).key;
      await this.load();
    }, 'Key created.');
    if (ok) await showSecretOnce({ title: 'New API key', label: 'API key', secret: key, note: 'Shown once: BYO stores only its hash.' });
  }

  private async roll(k: ApiKey, e: Event): Promise<void> {
    const select = (e.target as HTMLElement).closest('tr')?.querySelector('select');
    const overlap = Number(select?.value ?? 86_400);
    const ok = await confirmAction({
      title: `Roll ${k.keyHint}?`,
      body: overlap
        ? `A new key now; this one keeps working for ${overlap / 3600} hours, then expires.`
        : 'A new key now; this one stops working at once.',
      confirm: 'Roll key',
    });
    if (!ok) return;
    let key = '';
    if (
      await this.act(async () => {
        key = (await api.apiKeys.roll.mutate({ id: k.id, expiresInSeconds: overlap })).key.key;
        await this.load();
      }, 'Key rolled.')
    )
      await showSecretOnce({ title: 'New API key', label: 'API key', secret: key, note: 'Shown once: BYO stores only its hash.' });
  }

  private async revoke(k: ApiKey): Promise<void> {
    const ok = await confirmAction({
      title: `Revoke ${k.keyHint}?`,
      body: 'It stops working at once, on every server. This cannot be undone.',
      confirm: 'Revoke key',
    });
    if (ok)
      await this.act(async () => {
        await api.apiKeys.revoke.mutate({ id: k.id });
        await this.load();
      }, 'Key revoked.');
  }

  override render() {
    const live = (k: ApiKey) => !k.revokedAt && !(k.expiresAt && Date.parse(k.expiresAt) <= Date.now());
    return html`<h1 tabindex="-1">API keys</h1>
      ${this.status()}
      <table>
        <thead><tr><th scope="col">Key</th><th scope="col">Kind</th><th scope="col">Mode</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires / revoked</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${this.keys.map(
          (k) => html`<tr>
            <td><code>${k.keyHint}</code></td>
            <td>${k.kind === 'sk' ? 'secret' : 'publishable'}</td>
            <td>${k.mode}</td>
            <td>${fmtTime(k.createdAt)}</td>
            <td>${fmtTime(k.lastUsedAt)}</td>
            <td>${k.revokedAt ? `revoked ${fmtTime(k.revokedAt)}` : k.expiresAt ? `expires ${fmtTime(k.expiresAt)}` : '—'}</td>
            <td class="actions">${
              live(k)
                ? html`<label>Overlap
                    <select aria-label=${`Overlap for rolling ${k.keyHint}`}>
                      <option value="86400">24 hours</option><option value="3600">1 hour</option><option value="604800">7 days</option><option value="0">none</option>
                    </select>
                  </label>
                  <button type="button" class="secondary" aria-label=${`Roll ${k.keyHint}`} @click=${(e: Event) => this.roll(k, e)}>Roll</button>
                  <button type="button" class="danger" aria-label=${`Revoke ${k.keyHint}`} @click=${() => this.revoke(k)}>Revoke</button>`
                : nothing
            }</td>
          </tr>`,
        )}</tbody>
      </table>
      <form class="filters" @submit=${this.create}>
        <label>Kind <select name="kind"><option value="sk">secret (byo_sk_)</option><option value="pk">publishable (byo_pk_)</option></select></label>
        <label>Mode <select name="mode"><option value="test">test</option><option value="live">live</option></select></label>
        <button type="submit" class="primary">Create key</button>
      </form>`;
  }
}
