import { html, nothing } from 'lit';
import { api, state } from '../api.js';
import { fmtTime } from '../format.js';
import { Screen } from '../widgets.js';

type Entry = Awaited<ReturnType<typeof api.audit.list.query>>['data'][number];

/** The audit log (admin), newest first, filtered by action, actor and date; the chosen project's by default. */
export class AuditScreen extends Screen {
  static override properties = { ...Screen.properties, entries: { state: true } };
  entries: Entry[] = [];
  private filters: { action?: string; actor?: string; since?: string; all?: boolean } = {};

  protected override async load(): Promise<void> {
    const { all, ...rest } = this.filters;
    this.entries = (
      await api.audit.list.query({ limit: 200, ...rest, ...(all || !state.project ? {} : { projectId: state.project }) })
    ).data;
  }

  private filter(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const since = v('since');
    this.filters = {
      ...(v('action') ? { action: v('action') } : {}),
      ...(v('actor') ? { actor: v('actor') } : {}),
      ...(since ? { since: new Date(`${since}T00:00:00Z`).toISOString() } : {}),
      all: (form.elements.namedItem('all') as HTMLInputElement).checked,
    };
    void this.reload();
  }

  override render() {
    return html`<h1 tabindex="-1">Audit log</h1>
      <form class="filters" role="search" @submit=${this.filter}>
        <label>Action <input name="action" autocomplete="off" placeholder="key.revoked" /></label>
        <label>Actor <input name="actor" autocomplete="off" placeholder="admin" /></label>
        <label>Since <input name="since" type="date" /></label>
        <label class="check"><input name="all" type="checkbox" /> All projects</label>
        <button type="submit" class="primary">Filter</button>
      </form>
      ${this.status()}
      <table>
        <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Project</th><th scope="col">IP</th></tr></thead>
        <tbody>${this.entries.map(
          (a) => html`<tr><td>${fmtTime(a.createdAt)}</td><td>${a.actor}</td><td>${a.action}</td><td><code>${a.target ?? '—'}</code></td>
            <td>${a.projectId ?? '—'}${a.mode ? html` <span class="muted">${a.mode}</span>` : nothing}</td><td>${a.ip ?? '—'}</td></tr>`,
        )}</tbody>
      </table>
      ${this.entries.length || this.loading ? nothing : html`<p class="muted">No entries match.</p>`}`;
  }
}
