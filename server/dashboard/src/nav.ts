/**
 * History routing: every screen is a URL under /dashboard, so back, forward and reload work
 * (the server answers the page for any such path). Links are ordinary <a href>; clicks on them
 * are turned into pushState here.
 */
export const BASE = '/dashboard';
export const ROUTE_CHANGED = 'byo-dashboard:route';

export interface Route {
  screen: 'overview' | 'customers' | 'customer' | 'webhooks' | 'api-keys' | 'audit' | 'master-keys' | 'not-found';
  param?: string;
}

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/^\/+|\/+$/g, '') : '';
  const [first, second] = rest.split('/');
  if (!first) return { screen: 'overview' };
  if (first === 'customers' && second) return { screen: 'customer', param: decodeURIComponent(second) };
  if (first === 'customers' || first === 'webhooks' || first === 'api-keys' || first === 'audit' || first === 'master-keys')
    return { screen: first };
  return { screen: 'not-found' };
}

export function href(path: string): string {
  return `${BASE}${path}`;
}

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  window.dispatchEvent(new CustomEvent(ROUTE_CHANGED));
}

/** Same-origin links under /dashboard navigate without a reload (modifier keys keep their meaning). */
export function interceptLinks(root: Document): void {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.composedPath().find((n) => n instanceof HTMLAnchorElement) as HTMLAnchorElement | undefined) ?? null;
    if (!a || a.target || a.origin !== location.origin || !a.pathname.startsWith(BASE)) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener('popstate', () => window.dispatchEvent(new CustomEvent(ROUTE_CHANGED)));
}
