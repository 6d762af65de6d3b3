import { html, LitElement, nothing } from 'lit';
import { api, errorOf, SESSION_ENDED, state } from './api.js';
import { BASE, href, interceptLinks, parseRoute, ROUTE_CHANGED, type Route } from './nav.js';
import { applyTheme, initialTheme, type Theme } from './theme.js';
import './screens/index.js';

type Session = NonNullable<Awaited<ReturnType<typeof api.dashboard.session.query>>>;
type Project = { id: string; name: string };

const PROJECT_STORE = 'byo-dashboard:project';

const NAV: { path: string; label: string; screens: Route['screen'][]; admin?: boolean }[] = [
  { path: '', label: 'Overview', screens: ['overview'] },
  { path: '/customers', label: 'Customers', screens: ['customers', 'customer'] },
  { path: '/webhooks', label: 'Webhooks', screens: ['webhooks'] },
  { path: '/api-keys', label: 'API keys', screens: ['api-keys'], admin: true },
  { path: '/audit', label: 'Audit log', screens: ['audit'], admin: true },
  { path: '/master-keys', label: 'Master keys', screens: ['master-keys'], admin: true },
];

/**
 * The console's shell: the sign-in form, or the navigation, the admin's project switcher and
 * the current screen. The key typed at sign-in goes to the server once, in the sign-in call,
 * and is cleared from the form; the page keeps only the session's CSRF token, in memory.
 */
export class ByoDashboard extends LitElement {
  static override properties = {
    session: { state: true },
    checking: { state: true },
    signInError: { state: true },
    busy: { state: true },
    route: { state: true },
    theme: { state: true },
    projects: { state: true },
  };
  session: Session | null = null;
  checking = true;
  signInError = '';
  busy = false;
  route: Route = parseRoute(location.pathname);
  theme: Theme = initialTheme();
  projects: Project[] = [];

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    applyTheme(this.theme);
    interceptLinks(document);
    window.addEventListener(ROUTE_CHANGED, () => {
      this.route = parseRoute(location.pathname);
      void this.updateComplete.then(() => this.querySelector<HTMLElement>('main h1')?.focus());
    });
    window.addEventListener(SESSION_ENDED, () => this.ended('Your session has ended. Sign in again.'));
    void this.restore();
  }

  private async restore(): Promise<void> {
    try {
      const session = await api.dashboard.session.query();
      if (session) await this.started(session);
    } catch {
      this.session = null;
    } finally {
      this.checking = false;
    }
  }

  private async started(session: Session): Promise<void> {
    state.csrf = session.csrfToken;
    if (session.principal === 'admin') {
      this.projects = (await api.projects.list.query()).data.map((p) => ({ id: p.id, name: p.name }));
      const saved = JSON.parse(localStorage.getItem(PROJECT_STORE) ?? 'null') as { id?: string; mode?: string } | null;
      const chosen = this.projects.find((p) => p.id === saved?.id) ?? this.projects[0];
      state.project = chosen?.id ?? null;
      state.mode = saved?.mode === 'live' ? 'live' : 'test';
    } else {
      state.project = null;
    }
    this.session = session;
  }

  private ended(message: string): void {
    state.csrf = '';
    this.session = null;
    this.signInError = message;
  }

  private async signIn(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const input = form.elements.namedItem('secret') as HTMLInputElement;
    const secret = input.value.trim();
    if (!secret) {
      this.signInError = 'Paste a secret key (byo_sk_...) or the admin token.';
      input.focus();
      return;
    }
    this.busy = true;
    this.signInError = '';
    try {
      const session = await api.dashboard.signIn.mutate({ secret });
      input.value = '';
      await this.started(session);
    } catch (err) {
      this.signInError = errorOf(err).message;
      input.focus();
    } finally {
      this.busy = false;
    }
  }

  private async signOut(): Promise<void> {
    try {
      await api.dashboard.signOut.mutate({});
    } finally {
      this.ended('');
      state.project = null;
    }
  }

  private toggleTheme(): void {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    applyTheme(this.theme, true);
    // Charts read their colours when drawn: redraw the screen.
    const screen = this.querySelector('main > :last-child') as { reload?: () => Promise<void> } | null;
    void screen?.reload?.();
  }

  private switchProject(e: Event): void {
    const form = (e.target as HTMLElement).closest('form') as HTMLFormElement;
    state.project = (form.elements.namedItem('project') as HTMLSelectElement).value;
    state.mode = (form.elements.namedItem('mode') as HTMLSelectElement).value === 'live' ? 'live' : 'test';
    localStorage.setItem(PROJECT_STORE, JSON.stringify({ id: state.project, mode: state.mode }));
    this.requestUpdate();
    const screen = this.querySelector('main > :last-child') as { reload?: () => Promise<void> } | null;
    void screen?.reload?.();
  }

  override render() {
    if (this.checking) return html`<p class="muted center" role="status">Loading…</p>`;
    if (!this.session) return this.renderSignIn();
    const s = this.session;
    const admin = s.principal === 'admin';
    return html`
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href=${BASE}>BYO dashboard</a>
        ${admin ? this.renderSwitcher() : html`<span class="muted">${s.project?.name} · ${s.mode}</span>`}
        <span class="spacer"></span>
        <button type="button" class="secondary" aria-pressed=${this.theme === 'dark' ? 'true' : 'false'} @click=${this.toggleTheme}>
          Dark theme
        </button>
        <button type="button" class="secondary" @click=${this.signOut}>Sign out</button>
      </header>
      <div class="layout">
        <nav aria-label="Screens">
          <ul>
            ${NAV.filter((n) => admin || !n.admin).map(
              (n) =>
                html`<li><a href=${href(n.path)} aria-current=${n.screens.includes(this.route.screen) ? 'page' : nothing}>${n.label}</a></li>`,
            )}
          </ul>
        </nav>
        <main id="main">${this.renderScreen(admin)}</main>
      </div>
    `;
  }

  private renderSwitcher() {
    if (!this.projects.length) return html`<span class="muted">No projects yet</span>`;
    return html`<form class="switcher" @change=${this.switchProject} @submit=${(e: Event) => e.preventDefault()}>
      <label>Project
        <select name="project">
          ${this.projects.map((p) => html`<option value=${p.id} ?selected=${p.id === state.project}>${p.name} (${p.id})</option>`)}
        </select>
      </label>
      <label>Mode
        <select name="mode">
          <option value="test" ?selected=${state.mode === 'test'}>test</option>
          <option value="live" ?selected=${state.mode === 'live'}>live</option>
        </select>
      </label>
    </form>`;
  }

  private renderScreen(admin: boolean) {
    const r = this.route;
    // Keyed on project and mode, so a switch builds a fresh screen.
    const key = `${state.project}:${state.mode}`;
    const needsProject = admin && !state.project && r.screen !== 'master-keys' && r.screen !== 'audit';
    if (needsProject) return html`<h1 tabindex="-1">No project</h1><p>Create a project first: <code>byo projects create</code>.</p>`;
    if (!admin && (r.screen === 'api-keys' || r.screen === 'audit' || r.screen === 'master-keys'))
      return html`<h1 tabindex="-1">Admin only</h1><p>This screen needs the admin token: sign out and sign in with it.</p>`;
    switch (r.screen) {
      case 'overview':
        return html`<byo-overview data-key=${key}></byo-overview>`;
      case 'customers':
        return html`<byo-customers data-key=${key}></byo-customers>`;
      case 'customer':
        return html`<byo-customer .refId=${r.param ?? ''} data-key=${key}></byo-customer>`;
      case 'webhooks':
        return html`<byo-webhooks data-key=${key}></byo-webhooks>`;
      case 'api-keys':
        return html`<byo-api-keys data-key=${key}></byo-api-keys>`;
      case 'audit':
        return html`<byo-audit data-key=${key}></byo-audit>`;
      case 'master-keys':
        return html`<byo-master-keys></byo-master-keys>`;
      default:
        return html`<h1 tabindex="-1">Not found</h1><p>No such screen. <a href=${BASE}>Go to the overview</a>.</p>`;
    }
  }

  private renderSignIn() {
    return html`<main id="main" class="signin">
      <h1>BYO dashboard</h1>
      <form @submit=${this.signIn} novalidate>
        <label for="secret">Secret key or admin token</label>
        <input id="secret" name="secret" type="password" autocomplete="off" spellcheck="false" required
          aria-describedby=${this.signInError ? 'signin-error' : 'signin-help'} aria-invalid=${this.signInError ? 'true' : 'false'} />
        <p id="signin-help" class="muted">A secret key (byo_sk_…) opens its project; the admin token opens every project. It is sent once and not kept in this browser.</p>
        ${this.signInError ? html`<p id="signin-error" class="error" role="alert">${this.signInError}</p>` : nothing}
        <button type="submit" class="primary" ?disabled=${this.busy}>Sign in</button>
      </form>
    </main>`;
  }
}

if (!customElements.get('byo-dashboard')) customElements.define('byo-dashboard', ByoDashboard);
