import type { Transport } from './request.js';

export abstract class APIResource {
  constructor(protected readonly _transport: Transport) {}
}
