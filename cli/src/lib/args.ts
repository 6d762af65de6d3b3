import { Args, Flags } from '@oclif/core';

import { PROVIDERS } from '../generated/providers.js';

export { PROVIDERS };
export type ProviderName = (typeof PROVIDERS)[number];

export const keyRefArgs = {
  provider: Args.string({ description: 'The provider (GET /v1/providers lists them)', required: true, options: [...PROVIDERS] }),
  refId: Args.string({ description: "Your customer's refId", required: true }),
};

export const limitFlag = (max: number, def = 20) => Flags.integer({ description: `Rows per page (1-${max})`, min: 1, max, default: def });
