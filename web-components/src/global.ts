/**
 * The script-tag build (`dist/byo-connect.global.js`): Lit included, registers
 * `<byo-badge>` and `<byo-connect-form>`, and exposes `window.BYOConnect`.
 */
import './badge.js';
import './form.js';

export { ByoBadge } from './badge.js';
export { ConnectError, createConnect, DEFAULT_BASE_URL, isProvider } from './client.js';
export { ByoConnectForm } from './form.js';
