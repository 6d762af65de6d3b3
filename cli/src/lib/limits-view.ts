import { Flags } from '@oclif/core';
import { limitLine } from './limit-flag.js';

export const refIdFlag = Flags.string({ description: "The customer's refId; without it, the project default" });

interface LimitsState {
  refId: string | null;
  source: string;
  limits: { metric: string; window: string; provider: string | null; max: number; used: number; remaining: number; resetsAt: string }[];
}

/** The limits in force as fields: whose they are, then one line per limit with its live use. */
export function limitsFields(s: LimitsState): [string, string][] {
  return [
    ['ref id', s.refId ?? '(project default)'],
    ['source', s.source],
    ...s.limits.map((l): [string, string] => [
      limitLine({ metric: l.metric, window: l.window, provider: l.provider, max: l.max }),
      `${l.used} used, ${l.remaining} left, resets ${l.resetsAt}`,
    ]),
  ];
}
