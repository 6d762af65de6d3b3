import { ByoBadge } from './components/byo-badge.js';
import { define } from './internal/define.js';

define('byo-badge', ByoBadge);

export { ByoBadge };

declare global {
  interface HTMLElementTagNameMap {
    'byo-badge': ByoBadge;
  }
}
