import './badge.js';

export { ByoBadge } from './badge.js';
export {
  ConnectError,
  type ConnectClient,
  type ConnectFunction,
  type ConnectOptions,
  type ConnectParams,
  type ConnectResult,
  createConnect,
  DEFAULT_BASE_URL,
  type ErrorBody,
  isProvider,
  type Provider,
} from './client.js';
