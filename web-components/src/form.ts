import { ByoConnectForm } from './components/byo-connect-form.js';
import { define } from './internal/define.js';

define('byo-connect-form', ByoConnectForm);

export { ByoConnectForm };
export type { ConnectedDetail, ErrorDetail } from './components/byo-connect-form.js';

declare global {
  interface HTMLElementTagNameMap {
    'byo-connect-form': ByoConnectForm;
  }
  interface HTMLElementEventMap {
    'byo:connected': CustomEvent<import('./components/byo-connect-form.js').ConnectedDetail>;
    'byo:error': CustomEvent<import('./components/byo-connect-form.js').ErrorDetail>;
  }
}
